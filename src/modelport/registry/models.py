"""The model registry: versioned models with content-addressed artifacts, aliases, and loading into a runtime."""

from __future__ import annotations

import builtins
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from ..codecs.json import to_jsonable
from ..codecs.signature import infer_signature
from ..errors import ConflictError, InvalidInputError, ModelNotFoundError, ModelportError, NotFoundError
from . import frameworks
from .db import read_session, write_session
from .loading import ModelLoader
from .naming import get_or_create_name, next_version
from .records import ModelFile, ModelVersion, Resources
from .refs import MAX_VERSION, Reference, closest, parse_reference, validate_alias, validate_name
from .serialize import dump_object
from .store import ArtifactStore
from .tables import AliasRow, FileRow, ModelRow, ModelVersionRow, TagRow, as_utc

logger = logging.getLogger(__name__)

_IN_CHUNK = 500  # ids per IN (...) query, well under every database's limit on bound parameters
_SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache"})


def _collect(root: Path, prefix: str) -> list[tuple[str, Path]]:
    """(stored path, local path) for a file, or every file under a folder, in a stable order."""
    if root.is_file():
        return [(prefix or root.name, root)]
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
        for filename in sorted(filenames):
            local = Path(dirpath) / filename
            relative = local.relative_to(root).as_posix()
            found.append((f"{prefix}/{relative}" if prefix else relative, local))
    if not found:
        raise InvalidInputError(f"{root} is an empty folder: there is nothing to register")
    return found


def _check_tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    checked = {}
    for key, value in (tags or {}).items():
        if not isinstance(key, str) or not key.strip() or len(key) > 200:
            raise InvalidInputError(f"invalid tag key {key!r}: use a non-empty string of at most 200 characters")
        checked[key] = "" if value is None else str(value)
    return checked


def _jsonable(value: Any, what: str) -> Any:
    if value is None:
        return None
    try:
        return to_jsonable(value)
    except TypeError as exc:
        raise InvalidInputError(f"the {what} cannot be stored as JSON: {exc}") from exc


class ModelRegistry(ModelLoader):
    """Models of one workspace. Get one from ``Workspace.models``."""

    def __init__(self, engine: Engine, store: ArtifactStore, cache_dir: Path) -> None:
        self.engine = engine
        self.store = store
        self.cache_dir = cache_dir

    def artifacts(self) -> ArtifactStore:
        return self.store

    def after_fork(self) -> None:
        self.engine.dispose(close=False)

    # -- registering -------------------------------------------------------------------------------------------

    def register(
        self,
        name: str,
        path: str | os.PathLike[str] | None = None,
        *,
        obj: Any = None,
        framework: str | None = None,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        sample_input: Any = None,
        sample_output: Any = None,
        resources: Resources | Mapping[str, Any] | None = None,
        entry_script: str | os.PathLike[str] | None = None,
        source_directory: str | os.PathLike[str] | None = None,
        runtime_options: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Register a new version of ``name`` from a file, a folder, or an in-memory ``obj``.

        The artifacts are copied into the store first; the version exists only once the database transaction that
        records it commits, so a failure at any step leaves no version behind.
        """
        validate_name(name)
        checked_tags = _check_tags(tags)
        if not isinstance(resources, Resources):
            try:
                resources = Resources(**dict(resources or {}))
            except TypeError as exc:
                raise InvalidInputError(f"invalid resources: {exc}; use cpu, memory_gb and gpu") from exc
        properties_json = _jsonable(dict(properties or {}), "properties")
        options_json = _jsonable(dict(runtime_options or {}), "runtime options")
        input_json = _jsonable(sample_input, "sample input")
        output_json = _jsonable(sample_output, "sample output")
        with tempfile.TemporaryDirectory(prefix="modelport-register-") as scratch:
            if obj is not None:
                if path is not None:
                    raise InvalidInputError("give either a path or an object to register, not both")
                dumped, detected = dump_object(obj, Path(scratch))
                source, framework = dumped, framework or detected
            elif path is None:
                raise InvalidInputError("nothing to register: give a path to a file or folder, or an object")
            else:
                source = Path(path)
                if not source.exists():
                    raise InvalidInputError(f"cannot read {source}: no such file or folder")
                source = Path(os.path.abspath(source))  # "." and ".." have no name to store the files under
            if framework is None:
                framework, model_file = frameworks.detect(source)
            else:
                model_file = frameworks.check(framework, source)
            if model_file is None or source.is_file():
                model_path = source.name
            else:
                model_path = f"{source.name}/{model_file.relative_to(source).as_posix()}"
            entries = [(p, "model", local) for p, local in _collect(source, source.name)]
            entry = None
            if entry_script is not None:
                code_entries, entry = self._collect_code(Path(entry_script), source_directory)
                entries += code_entries
            stored = [(p, role, *self._put(local)) for p, role, local in entries]

        signature = infer_signature(input_json, output_json)
        with write_session(self.engine) as session:
            model_id = get_or_create_name(session, ModelRow, name)
            version = next_version(session, ModelRow, model_id)
            row = ModelVersionRow(
                model_id=model_id,
                version=version,
                framework=framework,
                model_path=model_path,
                entry_script=entry,
                description=description or "",
                properties=properties_json,
                sample_input=input_json,
                sample_output=output_json,
                signature=signature.to_dict() if signature else None,
                resources=resources.to_dict(),
                runtime_options=options_json,
                files=[FileRow(path=p, role=role, sha256=sha, size=size) for p, role, sha, size in stored],
                tags=[TagRow(key=k, value=v) for k, v in checked_tags.items()],
            )
            session.add(row)
        logger.info("registered model %s:%d (%s, %d files)", name, version, framework, len(stored))
        return self.get(Reference(name, version=version))

    def _put(self, local: Path) -> tuple[str, int]:
        try:
            return self.store.put_file(local)
        except PermissionError as exc:
            raise InvalidInputError(f"cannot read {local}: permission denied") from exc
        except IsADirectoryError as exc:
            raise InvalidInputError(f"cannot read {local}: it is a folder") from exc
        except FileNotFoundError as exc:
            raise InvalidInputError(f"cannot read {local}: no such file (a broken link?)") from exc

    @staticmethod
    def _collect_code(
        entry_script: Path, source_directory: str | os.PathLike[str] | None
    ) -> tuple[builtins.list[tuple[str, str, Path]], str]:
        if source_directory is None:
            script = entry_script
            if not script.is_file():
                raise InvalidInputError(f"cannot read the entry script {script}: no such file")
            return [(script.name, "code", script)], script.name
        root = Path(source_directory)
        if not root.is_dir():
            raise InvalidInputError(f"the source directory {root} is not a folder")
        script = entry_script if entry_script.is_absolute() else root / entry_script
        if not script.is_file():
            raise InvalidInputError(f"the entry script {entry_script} is not a file in {root}")
        try:
            entry = script.resolve().relative_to(root.resolve()).as_posix()
        except ValueError as exc:
            raise InvalidInputError(f"the entry script {script} is outside the source directory {root}") from exc
        return [(p, "code", local) for p, local in _collect(root, "")], entry

    # -- reading -----------------------------------------------------------------------------------------------

    def names(self) -> builtins.list[str]:
        with read_session(self.engine) as session:
            return list(session.scalars(select(ModelRow.name).order_by(ModelRow.name)))

    def _model(self, session: Session, name: str) -> ModelRow:
        model = session.scalars(select(ModelRow).where(ModelRow.name == name)).one_or_none()
        if model is None:
            all_names = session.scalars(select(ModelRow.name)).all()
            raise ModelNotFoundError(name, suggestions=closest(name, all_names))
        return model

    def _version_row(self, session: Session, ref: Reference) -> ModelVersionRow:
        model = self._model(session, ref.name)
        query = select(ModelVersionRow).where(ModelVersionRow.model_id == model.id)
        if ref.version is not None:
            row = None
            if 1 <= ref.version <= MAX_VERSION:  # a bigger number would overflow the database's integer
                row = session.scalars(query.where(ModelVersionRow.version == ref.version)).one_or_none()
            if row is None:
                versions = [
                    str(v)
                    for v in session.scalars(
                        select(ModelVersionRow.version)
                        .where(ModelVersionRow.model_id == model.id)
                        .order_by(ModelVersionRow.version)
                    )
                ]
                raise ModelNotFoundError(
                    ref.name, version=ref.version, suggestions=[f"{ref.name}:{v}" for v in versions[-3:]]
                )
            return row
        if ref.alias is not None:
            alias = session.get(AliasRow, (model.id, ref.alias))
            if alias is None:
                known = [a.alias for a in model.aliases]
                raise ModelNotFoundError(
                    ref.name,
                    alias=ref.alias,
                    suggestions=[f"{ref.name}@{a}" for a in closest(ref.alias, known)],
                )
            return alias.version
        row = session.scalars(query.order_by(ModelVersionRow.version.desc()).limit(1)).one_or_none()
        if row is None:
            raise NotFoundError(f"model {ref.name!r} has no versions left (all were deleted)")
        return row

    def get(self, ref: str | Reference) -> ModelVersion:
        """The version ``NAME`` (newest), ``NAME:VERSION`` or ``NAME@ALIAS`` names."""
        ref = parse_reference(ref) if isinstance(ref, str) else ref
        with read_session(self.engine) as session:
            row = self._version_row(session, ref)
            return self._records(session, [row])[0]

    def get_many(self, refs: Iterable[str]) -> dict[str, ModelVersion | ModelportError]:
        """Each reference resolved as ``get`` resolves it, in one read of the database: its version, or the error
        ``get`` would raise for it. Plain names (the newest version) take a few queries for all of them together;
        a ``NAME:VERSION``, a ``NAME@ALIAS`` or an unknown name is looked up as ``get`` does."""
        parsed: dict[str, Reference | ModelportError] = {}
        for text in dict.fromkeys(refs):
            try:
                parsed[text] = parse_reference(text)
            except ModelportError as exc:
                parsed[text] = exc
        with read_session(self.engine) as session:
            plain = sorted({r.name for r in parsed.values() if isinstance(r, Reference) and str(r) == r.name})
            newest: dict[str, int] = {}  # name -> the id of its newest version
            for chunk in _chunks(plain):
                ids = select(ModelRow.id).where(ModelRow.name.in_(chunk))
                top = (
                    select(ModelVersionRow.model_id, func.max(ModelVersionRow.version).label("version"))
                    .where(ModelVersionRow.model_id.in_(ids))
                    .group_by(ModelVersionRow.model_id)
                    .subquery()
                )
                query = (
                    select(ModelRow.name, ModelVersionRow.id)
                    .join(ModelVersionRow, ModelVersionRow.model_id == ModelRow.id)
                    .join(top, (top.c.model_id == ModelRow.id) & (top.c.version == ModelVersionRow.version))
                )
                newest.update((name, version_id) for name, version_id in session.execute(query))
            found: dict[str, int | ModelportError] = {}  # the version's id, or why there is none
            for text, ref in parsed.items():
                if isinstance(ref, ModelportError):
                    found[text] = ref
                elif str(ref) == ref.name and ref.name in newest:
                    found[text] = newest[ref.name]
                else:
                    try:
                        found[text] = self._version_row(session, ref).id
                    except ModelportError as exc:
                        found[text] = exc
            version_ids = sorted({i for i in found.values() if isinstance(i, int)})
            records: dict[int, ModelVersion] = {}
            for chunk in _chunks(version_ids):
                records.update(zip(chunk, self._records_by_id(session, chunk), strict=True))
        return {text: records[i] if isinstance(i, int) else i for text, i in found.items()}

    def list(self, name: str | None = None, tag: str | None = None, latest: bool = False) -> list[ModelVersion]:
        """Every version, newest first within each name; filtered by exact ``name`` and by ``tag``
        (``KEY`` or ``KEY=VALUE``); ``latest`` keeps only the newest version of each name."""
        with read_session(self.engine) as session:
            query = select(ModelVersionRow).join(ModelRow)
            if name is not None:
                model = self._model(session, name)
                query = query.where(ModelVersionRow.model_id == model.id)
            if tag is not None:
                key, has_value, value = tag.partition("=")
                condition = (TagRow.version_id == ModelVersionRow.id) & (TagRow.key == key)
                if has_value:
                    condition &= TagRow.value == value
                query = query.where(select(TagRow.key).where(condition).exists())
            rows = builtins.list(session.scalars(query.order_by(ModelRow.name, ModelVersionRow.version.desc())))
            if latest:
                newest: dict[int, ModelVersionRow] = {}
                for r in rows:
                    newest.setdefault(r.model_id, r)
                rows = builtins.list(newest.values())
            return self._records(session, rows)

    def _records(self, session: Session, rows: builtins.list[ModelVersionRow]) -> builtins.list[ModelVersion]:
        return self._records_by_id(session, [r.id for r in rows])

    def _records_by_id(self, session: Session, ids: builtins.list[int]) -> builtins.list[ModelVersion]:
        """The versions of these ids, in their order: plain rows rather than ORM objects (four queries whatever
        the count; a thousand versions in a third of the ORM's time, which ``get_many`` of a batch run waits for)."""
        if not ids:
            return []
        v = ModelVersionRow
        versions = {
            row.id: row
            for row in session.execute(
                select(
                    v.id,
                    ModelRow.name,
                    v.version,
                    v.framework,
                    v.model_path,
                    v.created_at,
                    v.description,
                    v.entry_script,
                    v.properties,
                    v.sample_input,
                    v.sample_output,
                    v.signature,
                    v.resources,
                    v.runtime_options,
                )
                .join(ModelRow, ModelRow.id == v.model_id)
                .where(v.id.in_(ids))
            )
        }
        tags: dict[int, dict[str, str]] = {}
        for version_id, key, value in session.execute(
            select(TagRow.version_id, TagRow.key, TagRow.value)
            .where(TagRow.version_id.in_(ids))
            .order_by(TagRow.version_id, TagRow.key)
        ):
            tags.setdefault(version_id, {})[key] = value
        files: dict[int, builtins.list[ModelFile]] = {}
        for version_id, path, role, sha256, size in session.execute(
            select(FileRow.version_id, FileRow.path, FileRow.role, FileRow.sha256, FileRow.size)
            .where(FileRow.version_id.in_(ids))
            .order_by(FileRow.version_id, FileRow.role, FileRow.path)
        ):
            files.setdefault(version_id, []).append(ModelFile(path, role, sha256, size))
        aliases: dict[int, builtins.list[str]] = {}
        for version_id, alias in session.execute(
            select(AliasRow.version_id, AliasRow.alias).where(AliasRow.version_id.in_(ids)).order_by(AliasRow.alias)
        ):
            aliases.setdefault(version_id, []).append(alias)
        out = []
        for i in ids:
            row = versions[i]
            out.append(
                ModelVersion(
                    name=row.name,
                    version=row.version,
                    framework=row.framework,
                    model_path=row.model_path,
                    created_at=as_utc(row.created_at),
                    description=row.description,
                    entry_script=row.entry_script,
                    tags=tags.get(i, {}),
                    properties=dict(row.properties),
                    sample_input=row.sample_input,
                    sample_output=row.sample_output,
                    signature=row.signature,
                    resources=Resources(**row.resources),
                    runtime_options=dict(row.runtime_options),
                    aliases=tuple(aliases.get(i, ())),
                    files=tuple(files.get(i, ())),
                )
            )
        return out

    # -- aliases and deletion ----------------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        """Point ``NAME@ALIAS`` at ``version``, creating or moving the alias."""
        validate_alias(alias)
        with write_session(self.engine) as session:
            row = self._version_row(session, Reference(name, version=version))
            existing = session.get(AliasRow, (row.model_id, alias))
            if existing is None:
                session.add(AliasRow(model_id=row.model_id, alias=alias, version_id=row.id))
            else:
                existing.version_id = row.id
        return self.get(Reference(name, version=version))

    def remove_alias(self, name: str, alias: str) -> None:
        with write_session(self.engine) as session:
            model = self._model(session, name)
            existing = session.get(AliasRow, (model.id, alias))
            if existing is None:
                raise ModelNotFoundError(name, alias=alias, suggestions=[f"{name}@{a.alias}" for a in model.aliases])
            session.delete(existing)

    def delete(self, ref: str | Reference, force: bool = False) -> ModelVersion:
        """Delete one version (``NAME:VERSION``). Refused while an alias points at it, unless ``force``."""
        ref = parse_reference(ref) if isinstance(ref, str) else ref
        if ref.version is None:
            raise InvalidInputError(f"name the version to delete: {ref.name}:VERSION")
        with write_session(self.engine) as session:
            row = self._version_row(session, ref)
            record = self._records(session, [row])[0]
            if record.aliases and not force:
                aliases = ", ".join(f"{ref.name}@{a}" for a in record.aliases)
                raise ConflictError(
                    f"{record.ref} is in use as {aliases}: move or remove the alias first, or delete with --force"
                )
            session.execute(delete(AliasRow).where(AliasRow.version_id == row.id))
            session.delete(row)
        self._collect_garbage({f.sha256 for f in record.files})
        shutil.rmtree(self.cache_dir / "models" / record.name / str(record.version), ignore_errors=True)
        return record

    def _collect_garbage(self, candidates: set[str]) -> None:
        """Remove blobs that no remaining file row references."""
        if not candidates:
            return
        with read_session(self.engine) as session:
            still_used = set(session.scalars(select(FileRow.sha256).where(FileRow.sha256.in_(candidates))))
        for sha256 in candidates - still_used:
            self.store.delete(sha256)

    # -- files: download (materialize and load are ModelLoader's) -----------------------------------------------

    def download(self, ref: str | Reference, destination: str | os.PathLike[str]) -> Path:
        """Write a version's files to a new folder (code files under ``code/``); all or nothing."""
        version = self.get(ref)
        target = Path(destination)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise InvalidInputError(f"{target} already exists and is not an empty folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.parent / f".{target.name}.{uuid.uuid4().hex}.partial"
        try:
            self._write_files(version, partial / "", partial / "code")
            if target.exists():
                target.rmdir()
            os.replace(partial, target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return target


def _chunks(items: builtins.list[Any]) -> Iterable[builtins.list[Any]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]
