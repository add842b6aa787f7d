"""Registered pipelines: versioned by name like models; registering an unchanged definition (same steps, same
script contents) returns the version that has it. A published version is the one REST callers and schedules start
when they name no version."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from ..errors import InvalidInputError, NotFoundError, did_you_mean
from ..registry import Workspace
from ..registry.db import read_session, write_session
from ..registry.naming import get_or_create_name, next_version
from ..registry.refs import Reference, closest, parse_reference
from ..registry.tables import PipelineRow, PipelineVersionRow, as_utc
from .pipeline import Pipeline, ScriptStep
from .records import PipelineVersion

MAX_SOURCE_FILES = 1000


class PipelineNotFoundError(NotFoundError):
    def __init__(self, name: str, version: int | None = None, suggestions: builtins.list[str] | None = None) -> None:
        if version is not None:
            message = f"pipeline {name!r} has no version {version}."
        else:
            message = f"no pipeline named {name!r}." + did_you_mean(suggestions or ())
        super().__init__(message)


class PipelineRegistry:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.engine = workspace.engine
        self.store = workspace.store

    def register(self, pipeline: Pipeline | str | os.PathLike[str]) -> PipelineVersion:
        """Register a pipeline (or a YAML file of one); its scripts' files are stored with the version."""
        if not isinstance(pipeline, Pipeline):
            pipeline = Pipeline.from_yaml(pipeline)
        files = self._store_files(pipeline)
        content_hash = pipeline.content_hash(files)
        try:
            return self._insert(pipeline, files, content_hash)
        except DBIntegrityError:  # the same content registered concurrently
            return self.get(pipeline.name)

    def _store_files(self, pipeline: Pipeline) -> list[dict[str, Any]]:
        scripts = [s for s in pipeline.steps if isinstance(s, ScriptStep)]
        if not scripts:
            return []
        if pipeline.base_dir is None:
            raise InvalidInputError(
                f"pipeline {pipeline.name!r} has script steps but no base_dir to read their files from: "
                "load it with Pipeline.from_yaml or pass base_dir="
            )
        base = pipeline.base_dir.resolve()
        found: dict[str, Path] = {}
        for step in scripts:
            source = (base / (step.source_directory or ".")).resolve()
            script = source / step.script
            if not script.is_file():
                raise InvalidInputError(f"step {step.name!r}: the script {script} does not exist")
            if not source.is_relative_to(base):
                raise InvalidInputError(f"step {step.name!r}: source_directory must be inside {base}")
            paths = [script] if step.source_directory is None else sorted(p for p in source.rglob("*") if p.is_file())
            for path in paths:
                if "__pycache__" in path.parts:
                    continue
                found[path.relative_to(base).as_posix()] = path
        if len(found) > MAX_SOURCE_FILES:
            raise InvalidInputError(f"the script steps' folders hold {len(found)} files; at most {MAX_SOURCE_FILES}")
        files = []
        for relative, path in sorted(found.items()):
            sha256, size = self.store.put_file(path)
            files.append({"path": relative, "sha256": sha256, "size": size})
        return files

    def _insert(self, pipeline: Pipeline, files: list[dict[str, Any]], content_hash: str) -> PipelineVersion:
        with write_session(self.engine) as session:
            pipeline_id = get_or_create_name(session, PipelineRow, pipeline.name)
            existing = session.scalars(
                select(PipelineVersionRow).where(
                    PipelineVersionRow.pipeline_id == pipeline_id, PipelineVersionRow.content_hash == content_hash
                )
            ).one_or_none()
            if existing is not None:
                return _record(existing)
            row = PipelineVersionRow(
                pipeline_id=pipeline_id,
                version=next_version(session, PipelineRow, pipeline_id),
                definition=pipeline.to_dict(),
                files=files,
                description=pipeline.description,
                content_hash=content_hash,
            )
            session.add(row)
            session.flush()
            session.refresh(row, ["pipeline"])
            return _record(row)

    def get(self, ref: str | Reference) -> PipelineVersion:
        """``NAME`` (the newest version), ``NAME:VERSION`` or ``NAME@published``."""
        ref = parse_reference(ref, "pipeline") if isinstance(ref, str) else ref
        with read_session(self.engine) as session:
            pipeline = session.scalars(select(PipelineRow).where(PipelineRow.name == ref.name)).one_or_none()
            if pipeline is None:
                names = session.scalars(select(PipelineRow.name)).all()
                raise PipelineNotFoundError(ref.name, suggestions=closest(ref.name, names))
            version = ref.version
            if ref.alias is not None:
                if ref.alias != "published":
                    raise InvalidInputError(f"pipelines have one alias, @published, not @{ref.alias}")
                if pipeline.published_version is None:
                    raise NotFoundError(f"pipeline {ref.name!r} has no published version: publish one first")
                version = pipeline.published_version
            query = select(PipelineVersionRow).where(PipelineVersionRow.pipeline_id == pipeline.id)
            if version is not None:
                query = query.where(PipelineVersionRow.version == version)
            row = session.scalars(query.order_by(PipelineVersionRow.version.desc()).limit(1)).one_or_none()
            if row is None:
                raise PipelineNotFoundError(ref.name, ref.version)
            return _record(row)

    def list(self, name: str | None = None) -> builtins.list[PipelineVersion]:
        with read_session(self.engine) as session:
            query = select(PipelineVersionRow).join(PipelineRow)
            if name is not None:
                query = query.where(PipelineRow.name == name)
            rows = session.scalars(query.order_by(PipelineRow.name, PipelineVersionRow.version)).all()
            return [_record(r) for r in rows]

    def publish(self, ref: str | Reference) -> PipelineVersion:
        """Make a version (default: the newest) the one REST callers and schedules start."""
        version = self.get(ref)
        with write_session(self.engine) as session:
            session.execute(
                update(PipelineRow).where(PipelineRow.name == version.name).values(published_version=version.version)
            )
        return self.get(version.ref)

    def materialize(self, version: PipelineVersion) -> Path:
        """A verified local copy of a version's script files (the folder scripts run in)."""
        root = self.workspace.cache_dir / "pipelines" / version.name / str(version.version)
        files = [(f["path"], f["sha256"], f["size"], f"{version.ref}/{f['path']}") for f in version.files]
        self.store.materialize(root, files, label=version.ref)
        return root


def _record(row: PipelineVersionRow) -> PipelineVersion:
    name = row.pipeline.name
    return PipelineVersion(
        name=name,
        version=row.version,
        pipeline=Pipeline.from_dict(row.definition, origin=f"pipeline {name}:{row.version}"),
        files=tuple(row.files),
        created_at=as_utc(row.created_at),
        published=row.pipeline.published_version == row.version,
    )
