"""The workspace's metadata tables. The schema itself is created and upgraded by the Alembic migrations beside this
module; a test checks that the migrations produce exactly these tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Double, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Timestamps are stored in UTC; SQLite gives them back without a zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONType, list[Any]: JSONType, datetime: DateTime(timezone=True)}


class ModelRow(Base):
    """One registered model name. ``last_version`` only grows, so versions are never reused."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    last_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[ModelVersionRow]] = relationship(back_populates="model")
    aliases: Mapped[list[AliasRow]] = relationship(back_populates="model", cascade="all, delete-orphan")


class ModelVersionRow(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version", name="uq_model_versions_model_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    framework: Mapped[str] = mapped_column(String(40))
    model_path: Mapped[str] = mapped_column(String(1000))
    entry_script: Mapped[str | None] = mapped_column(String(1000))
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sample_input: Mapped[Any] = mapped_column(JSONType, nullable=True)
    sample_output: Mapped[Any] = mapped_column(JSONType, nullable=True)
    signature: Mapped[Any] = mapped_column(JSONType, nullable=True)
    resources: Mapped[dict[str, Any]] = mapped_column(default=dict)
    runtime_options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    model: Mapped[ModelRow] = relationship(back_populates="versions")
    files: Mapped[list[FileRow]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="FileRow.role, FileRow.path"
    )
    tags: Mapped[list[TagRow]] = relationship(cascade="all, delete-orphan", order_by="TagRow.key")


class FileRow(Base):
    """One artifact file of a model version: ``role`` is ``model`` (the model folder) or ``code`` (the entry
    script's source directory); ``sha256`` is the key of its content in the artifact store."""

    __tablename__ = "model_files"
    __table_args__ = (UniqueConstraint("version_id", "role", "path", name="uq_model_files_version_role_path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)

    version: Mapped[ModelVersionRow] = relationship(back_populates="files")


class TagRow(Base):
    __tablename__ = "model_tags"

    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    value: Mapped[str] = mapped_column(Text, default="")


class AliasRow(Base):
    __tablename__ = "model_aliases"

    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(200), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), index=True)

    model: Mapped[ModelRow] = relationship(back_populates="aliases")
    version: Mapped[ModelVersionRow] = relationship()


class EnvironmentNameRow(Base):
    __tablename__ = "environments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    last_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EnvironmentVersionRow(Base):
    __tablename__ = "environment_versions"
    __table_args__ = (
        UniqueConstraint("environment_id", "version", name="uq_environment_versions_env_version"),
        UniqueConstraint("environment_id", "content_hash", name="uq_environment_versions_env_content"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    python_version: Mapped[str] = mapped_column(String(20))
    requirements: Mapped[list[Any]] = mapped_column(default=list)
    base_image: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    environment: Mapped[EnvironmentNameRow] = relationship()


class PipelineRow(Base):
    """One registered pipeline name; ``published_version`` is the version REST callers start (None: unpublished)."""

    __tablename__ = "pipelines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    last_version: Mapped[int] = mapped_column(Integer, default=0)
    published_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PipelineVersionRow(Base):
    """A pipeline's definition (steps, parameters) as JSON; its scripts are blobs named in ``files``."""

    __tablename__ = "pipeline_versions"
    __table_args__ = (
        UniqueConstraint("pipeline_id", "version", name="uq_pipeline_versions_pipeline_version"),
        UniqueConstraint("pipeline_id", "content_hash", name="uq_pipeline_versions_pipeline_content"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    files: Mapped[list[Any]] = mapped_column(default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    pipeline: Mapped[PipelineRow] = relationship()


class RunRow(Base):
    """One run of a pipeline version. ``status``: queued, running, completed, failed, canceled; ``owner`` is the
    process executing it, ``cancel_requested`` what ``runs cancel`` sets for that process to see; ``context`` holds
    what the run was started with beyond its parameters (the folder relative paths are read from, retries' limits)."""

    __tablename__ = "pipeline_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    pipeline_version_id: Mapped[int] = mapped_column(ForeignKey("pipeline_versions.id", ondelete="CASCADE"), index=True)
    experiment: Mapped[str] = mapped_column(String(200), default="")
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    engine: Mapped[str] = mapped_column(String(20))
    workers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    trigger: Mapped[str] = mapped_column(String(200), default="cli")
    output_url: Mapped[str] = mapped_column(String(1000))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)

    version: Mapped[PipelineVersionRow] = relationship()
    tasks: Mapped[list[TaskRow]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="TaskRow.id"
    )


class TaskRow(Base):
    """One task of a run: a partition (or file) of a score step, or a script step. ``key`` names it within its
    step (``Device=A/Tag=B``); ``inputs`` are the files it reads, fixed when the run was planned."""

    __tablename__ = "run_tasks"
    __table_args__ = (UniqueConstraint("run_id", "step", "key", name="uq_run_tasks_run_step_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("pipeline_runs.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(1000))
    partition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    inputs: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(300), nullable=True)
    rows_in: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rows_out: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    duration_s: Mapped[float | None] = mapped_column(Double, nullable=True)
    output: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    log: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)

    run: Mapped[RunRow] = relationship(back_populates="tasks")


class ScheduleRow(Base):
    """A cron schedule of a pipeline. ``next_slot`` is the next time it is due; ``missed`` says what happens to slots
    that passed while no scheduler ran (``latest``: run the newest one once; ``skip``: none; ``all``: each)."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    pipeline: Mapped[str] = mapped_column(String(200))
    pipeline_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cron: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    experiment: Mapped[str] = mapped_column(String(200), default="")
    engine: Mapped[str] = mapped_column(String(20), default="local")
    missed: Mapped[str] = mapped_column(String(10), default="latest")
    paused: Mapped[bool] = mapped_column(default=False)
    next_slot: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScheduleFireRow(Base):
    """A slot of a schedule that was started: the primary key is what stops two schedulers starting it twice.
    ``error`` says why a claimed slot has no run (its run could not be created)."""

    __tablename__ = "schedule_fires"

    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[datetime] = mapped_column(primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ScoredInputRow(Base):
    """An input file that a run of a pipeline's score step took to score, for steps that score only files no
    earlier run took (``new_files_only``). The primary key is what stops two runs taking the same file: the file by
    the sha256 of its URL (URLs can outgrow an index), which ``file`` keeps whole."""

    __tablename__ = "scored_inputs"

    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[str] = mapped_column(String(200), primary_key=True)
    file_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    file: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str] = mapped_column(ForeignKey("pipeline_runs.id", ondelete="CASCADE"), index=True)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKeyRow(Base):
    """A key of the control-plane API. Only its sha256 is kept; ``prefix`` (its first characters) names it in
    listings and logs."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    prefix: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
