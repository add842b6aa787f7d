"""Settings, one pydantic-settings class per scope. Reading them has no side effects."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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
