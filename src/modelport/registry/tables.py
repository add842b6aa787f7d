"""The workspace's metadata tables. The schema itself is created and upgraded by the Alembic migrations beside this
module; a test checks that the migrations produce exactly these tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
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
