"""A read-only lookup of model versions for the scoring server, over the standard library's ``sqlite3``.

Serving a model asks the workspace two things: which version a reference names, and that version's files. Through
SQLAlchemy those cost a scoring server about 0.2 s of start-up and 20 MB of memory for the whole life of the process
(the ORM, its dialects, the tables); the few rows they read are cheaper to read directly. So ``modelport serve``
looks models up here when the workspace database is a SQLite file, and loads them the same way the registry does
(``ModelLoader``: sha256 checked on every load).

The registry stays the only writer and the one that explains: the catalog hands a lookup over to it whenever it is
not sure, so that both always give the same answer. That is when the database is at another schema revision than the
one these queries were written for (``READS_REVISION``: a newer workspace, or one not created yet), when ``sqlite3``
fails (a locked or unreadable file: the registry's error says so), and when the reference names no version (the
registry's ``ModelNotFoundError`` carries the suggestions). The registry is opened only then, on first need.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..settings import WorkspaceSettings
from .loading import ModelLoader
from .records import ModelFile, ModelVersion, Resources
from .refs import MAX_VERSION, Reference, parse_reference
from .store import ArtifactStore

if TYPE_CHECKING:
    from .workspace import Workspace

logger = logging.getLogger(__name__)

# The schema revision whose tables the queries below read. A test keeps it equal to ``db.SCHEMA_HEAD``: a migration
# that changes these tables must change the queries (or this module) with it.
READS_REVISION = "0003"

_VERSION_COLUMNS = (
    "m.name, v.version, v.framework, v.model_path, v.created_at, v.description, v.entry_script, v.properties, "
    "v.sample_input, v.sample_output, v.signature, v.resources, v.runtime_options"
)


def sqlite_path(db_url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL as SQLAlchemy reads it, or None for any other database, an in-memory
    one, or a URL with options (the catalog leaves those to the registry)."""
    prefix = "sqlite:///"
    if not db_url.startswith(prefix) or "?" in db_url:
        return None
    path = db_url[len(prefix) :]
    return Path(path) if path and path != ":memory:" else None


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class ModelCatalog(ModelLoader):
    """The model versions of a workspace whose database is the SQLite file ``path``, read-only. Get one with
    ``ModelCatalog.open()``; ``get``, ``load`` and ``path_of`` answer as ``Workspace.models`` would."""

    def __init__(self, settings: WorkspaceSettings, path: Path) -> None:
        self.settings = settings
        self.path = path
        self.cache_dir = settings.resolved_cache_dir()
        self._store: ArtifactStore | None = None
        self._workspace: Workspace | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, home: str | os.PathLike[str] | None = None) -> ModelCatalog | None:
        """The catalog of the workspace ``Workspace(home)`` opens, or None when its database is not a SQLite file
        (then open the ``Workspace``)."""
        settings = WorkspaceSettings()
        if home is not None:
            settings = settings.model_copy(update={"home": Path(home)})
        path = sqlite_path(settings.resolved_db_url())
        return None if path is None else cls(settings, path)

    # -- finding versions --------------------------------------------------------------------------------------

    def get(self, ref: str | Reference) -> ModelVersion:
        """The version ``NAME`` (newest), ``NAME:VERSION`` or ``NAME@ALIAS`` names."""
        parsed = parse_reference(ref) if isinstance(ref, str) else ref
        try:
            found = self._read(parsed)
        except sqlite3.Error as exc:
            logger.debug("cannot read %s directly (%s); asking the registry", self.path, exc)
            found = None
        return found if found is not None else self.workspace().models.get(parsed)

    def _connect(self) -> sqlite3.Connection | None:
        if not self.path.is_file():
            return None  # a new workspace: the registry creates it
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None, check_same_thread=False)

    def _read(self, ref: Reference) -> ModelVersion | None:
        """The version ``ref`` names, read in one transaction; None when the registry should answer instead."""
        conn = self._connect()
        if conn is None:
            return None
        try:
            conn.execute("BEGIN")
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
            if revision != [(READS_REVISION,)]:
                return None
            version_id = self._version_id(conn, ref)
            return None if version_id is None else self._record(conn, version_id)
        finally:
            conn.close()  # the transaction ends with it; it only ever read

    @staticmethod
    def _version_id(conn: sqlite3.Connection, ref: Reference) -> int | None:
        model = conn.execute("SELECT id FROM models WHERE name = ?", (ref.name,)).fetchone()
        if model is None:
            return None
        query: str
        args: tuple[Any, ...]
        if ref.version is not None:
            if not 1 <= ref.version <= MAX_VERSION:
                return None
            query, args = "SELECT id FROM model_versions WHERE model_id = ? AND version = ?", (model[0], ref.version)
        elif ref.alias is not None:
            query, args = "SELECT version_id FROM model_aliases WHERE model_id = ? AND alias = ?", (model[0], ref.alias)
        else:
            query, args = "SELECT id FROM model_versions WHERE model_id = ? ORDER BY version DESC LIMIT 1", (model[0],)
        row = conn.execute(query, args).fetchone()
        return None if row is None else int(row[0])

    @staticmethod
    def _record(conn: sqlite3.Connection, version_id: int) -> ModelVersion:
        (
            name,
            version,
            framework,
            model_path,
            created_at,
            description,
            entry_script,
            properties,
            sample_input,
            sample_output,
            signature,
            resources,
            runtime_options,
        ) = conn.execute(
            f"SELECT {_VERSION_COLUMNS} FROM model_versions v JOIN models m ON m.id = v.model_id WHERE v.id = ?",
            (version_id,),
        ).fetchone()
        files = conn.execute(
            "SELECT path, role, sha256, size FROM model_files WHERE version_id = ? ORDER BY role, path", (version_id,)
        ).fetchall()
        tags = conn.execute("SELECT key, value FROM model_tags WHERE version_id = ? ORDER BY key", (version_id,))
        aliases = conn.execute("SELECT alias FROM model_aliases WHERE version_id = ? ORDER BY alias", (version_id,))
        moment = datetime.fromisoformat(created_at)
        return ModelVersion(
            name=name,
            version=version,
            framework=framework,
            model_path=model_path,
            created_at=moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC),  # stored in UTC
            description=description,
            entry_script=entry_script,
            tags=dict(tags.fetchall()),
            properties=dict(_json(properties) or {}),
            sample_input=_json(sample_input),
            sample_output=_json(sample_output),
            signature=_json(signature),
            resources=Resources(**(_json(resources) or {})),
            runtime_options=dict(_json(runtime_options) or {}),
            aliases=tuple(a for (a,) in aliases.fetchall()),
            files=tuple(ModelFile(*f) for f in files),
        )

    # -- what the registry does --------------------------------------------------------------------------------

    def workspace(self) -> Workspace:
        """The full workspace, opened on first need (SQLAlchemy with it)."""
        with self._lock:
            if self._workspace is None:
                from .workspace import Workspace

                self._workspace = Workspace(settings=self.settings)
            return self._workspace

    def artifacts(self) -> ArtifactStore:
        with self._lock:
            if self._store is None:
                self._store = ArtifactStore(self.settings.resolved_store_url())
            return self._store

    def after_fork(self) -> None:
        if self._workspace is not None:  # each lookup of its own opens and closes its connection
            self._workspace.models.after_fork()

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()

    def __repr__(self) -> str:
        return f"<ModelCatalog {self.path}>"
