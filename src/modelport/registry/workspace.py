"""The workspace: a metadata database and an artifact store, with the registries that use them."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy.engine import make_url

from ..settings import WorkspaceSettings
from .db import create_db_engine, ensure_schema, redact_url
from .environments import EnvironmentRegistry
from .models import ModelRegistry
from .store import ArtifactStore

logger = logging.getLogger(__name__)


class Workspace:
    """Where modelport keeps its state.

    ``Workspace()`` opens (creating on first use) ``.modelport/`` in the working directory, or what the
    ``MODELPORT_HOME``, ``MODELPORT_DB_URL`` and ``MODELPORT_STORE_URL`` environment variables say; arguments
    override both.
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        db_url: str | None = None,
        store_url: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        settings: WorkspaceSettings | None = None,
    ) -> None:
        overrides: dict[str, Any] = {
            k: v
            for k, v in {
                "home": home,
                "db_url": db_url,
                "store_url": store_url,
                "cache_dir": cache_dir,
            }.items()
            if v is not None
        }
        base = settings or WorkspaceSettings()
        self.settings = base.model_copy(
            update={k: Path(v) if k in ("home", "cache_dir") else v for k, v in overrides.items()}
        )
        url = self.settings.resolved_db_url()
        parsed = make_url(url) if url.startswith("sqlite") else None
        if parsed is not None and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_db_engine(url)
        ensure_schema(self.engine)
        self.store = ArtifactStore(self.settings.resolved_store_url())
        self.models = ModelRegistry(self.engine, self.store, self.settings.resolved_cache_dir())
        self.environments = EnvironmentRegistry(self.engine)

    @property
    def db_url(self) -> str:
        """The database URL with any password hidden."""
        return redact_url(str(self.engine.url))

    @property
    def store_url(self) -> str:
        return self.store.url

    @property
    def cache_dir(self) -> Path:
        return self.settings.resolved_cache_dir()

    def describe(self) -> dict[str, str]:
        return {"database": self.db_url, "artifacts": self.store_url, "cache": str(self.cache_dir)}

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Workspace database={self.db_url} artifacts={self.store_url}>"
