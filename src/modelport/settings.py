"""Settings, one pydantic-settings class per scope. Reading them has no side effects."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORT = 5001  # where a scoring service listens unless told otherwise: the port Azure ML's inference server uses


class WorkspaceSettings(BaseSettings):
    """Where a workspace keeps its state. Every field can be set by an environment variable ``MODELPORT_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="MODELPORT_", extra="ignore")

    home: Path = Field(
        default=Path(".modelport"),
        description="The workspace folder: holds the SQLite database, the artifact store and the cache unless "
        "db_url, store_url or cache_dir say otherwise. Default: .modelport in the working directory.",
    )
    db_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata database, e.g. postgresql://user@host/db. "
        "Default: sqlite:///<home>/modelport.db.",
    )
    store_url: str | None = Field(
        default=None,
        description="fsspec URL of the artifact store, e.g. s3://bucket/prefix, memory://x or a local path. "
        "Default: <home>/artifacts.",
    )
    cache_dir: Path | None = Field(
        default=None,
        description="Local folder where model versions are materialized (verified) before loading. "
        "Default: <home>/cache.",
    )

    def resolved_db_url(self) -> str:
        return self.db_url or f"sqlite:///{(self.home / 'modelport.db').resolve()}"

    def resolved_store_url(self) -> str:
        return self.store_url or str((self.home / "artifacts").resolve())

    def resolved_cache_dir(self) -> Path:
        return (self.cache_dir or self.home / "cache").resolve()


class ControlSettings(BaseSettings):
    """The control-plane server (``modelport server``). Every field can be set by ``MODELPORT_SERVER_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="MODELPORT_SERVER_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="Address to listen on; 0.0.0.0 for every interface.")
    port: int = Field(default=8600, ge=0, le=65535, description="Port to listen on; 0 picks a free one.")
    tick_s: float = Field(default=5.0, gt=0, le=3600, description="Seconds between two looks for due schedule slots.")
    concurrent_runs: int = Field(
        default=1, ge=1, le=256, description="Runs this server executes at once; more queued ones wait their turn."
    )
    poll_s: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="Seconds between two looks for queued runs (runs queued through this server start at once).",
    )
    shutdown_grace_s: float = Field(
        default=30.0,
        ge=0,
        description="On SIGINT/SIGTERM, how long runs in progress may take to finish before they are asked to cancel.",
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1, description="Largest request body accepted.")


class BatchSettings(BaseSettings):
    """How batch runs execute, wherever they are started (the CLI, ``modelport server``, a schedule). Every field
    can be set by an environment variable ``MODELPORT_BATCH_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="MODELPORT_BATCH_", extra="ignore")

    ray_address: str | None = Field(
        default=None,
        description="The Ray cluster runs on the ray engine use: 'auto' (the cluster this machine belongs to), "
        "ray://host:10001, or unset to start a local Ray when none is running. --address overrides it.",
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        description="Worker processes (local engine) or actors (ray) of a run that names none. Default: one per core.",
    )
    model_cache_size: int = Field(
        default=1024,
        ge=1,
        description="Models each worker keeps loaded between tasks (and, in modelport server, between runs); the "
        "least recently used past it is dropped.",
    )
    stream_above_mb: float = Field(
        default=64.0,
        ge=0,
        description="A score task whose input files hold more than this many MB (Parquet: of data uncompressed, as "
        "its footer gives it) is read and scored a piece at a time "
        "(stream_piece_rows), into an output put in place whole at the end: its memory holds a piece, whatever the "
        "file's size. Smaller inputs are read whole. 0 reads every input file a piece at a time; inf reads each whole.",
    )
    stream_piece_rows: int = Field(
        default=100_000,
        ge=1,
        description="Rows a piece of a large input holds (rounded up to a whole number of mini-batches): more "
        "takes more memory, fewer more time.",
    )
    keep_workers_s: float = Field(
        default=3900.0,
        ge=0,
        description="How long modelport server keeps an idle engine's workers, with their imports and loaded models, "
        "for the next run: the default (65 minutes) keeps them for an hourly schedule; 0 stops them after each run. "
        "A run started from the CLI always stops its own.",
    )


def settings_problem(exc: ValidationError) -> str | None:
    """What is wrong with the settings a ``ValidationError`` of a settings class reports, in one line that names each
    environment variable and the value it has; None for a model that is not one of the settings."""
    found = [c for c in _settings_classes(BaseSettings) if c.__name__ == exc.title]
    if not found:
        return None
    prefix = str(found[0].model_config.get("env_prefix") or "")
    problems = []
    for error in exc.errors():
        name = prefix + "_".join(map(str, error["loc"])).upper()
        given = "" if error["type"] == "missing" else f"={error['input']!r}"
        problems.append(f"{name}{given}: {error['msg'].removeprefix('Value error, ')}")
    return "invalid setting " + "; ".join(problems)


def _settings_classes(base: type[BaseSettings]) -> list[type[BaseSettings]]:
    return [c for sub in base.__subclasses__() for c in (sub, *_settings_classes(sub))]
