"""Loading model versions: a verified local copy of a version's files, then a runtime over it.

Shared by the registry (``ModelRegistry``) and its read-only lookup for serving (``ModelCatalog``): both find a
``ModelVersion`` their own way, and load it here the same way. Every file is checked against its sha256 before a
runtime sees it: copying from the store verifies while it copies, and a cached copy is verified again on each load.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..codecs.signature import Signature
from ..errors import InvalidInputError
from ..runtimes import ModelContext, Runtime, create_runtime
from ..runtimes.base import ModelPathResolver
from .records import ModelVersion
from .refs import Reference
from .store import ArtifactStore

logger = logging.getLogger(__name__)


class ModelLoader(ABC):
    """Materializes and loads the versions that ``get`` finds, under ``cache_dir``, fetching from ``artifacts()``."""

    cache_dir: Path

    @abstractmethod
    def get(self, ref: str | Reference) -> ModelVersion:
        """The version ``NAME`` (newest), ``NAME:VERSION`` or ``NAME@ALIAS`` names."""

    @abstractmethod
    def artifacts(self) -> ArtifactStore:
        """The artifact store, which a version's files are copied from when they are not in the cache."""

    @abstractmethod
    def after_fork(self) -> None:
        """In a forked worker: forget the database connections inherited from the parent (they are the parent's
        to use and close)."""

    def _write_files(self, version: ModelVersion, model_dir: Path, code_dir: Path) -> None:
        store = self.artifacts()
        for f in version.files:
            base = model_dir if f.role == "model" else code_dir
            store.copy_to(f.sha256, f.size, base / f.path, label=f"{version.ref}/{f.path}")

    def materialize(self, version: ModelVersion) -> tuple[Path, Path | None]:
        """A verified local copy of a version's files: (model folder, code folder or None)."""
        root = self.cache_dir / "models" / version.name / str(version.version)
        files = [
            (f"{'model' if f.role == 'model' else 'code'}/{f.path}", f.sha256, f.size, f"{version.ref}/{f.path}")
            for f in version.files
        ]
        self.artifacts().materialize(root, files, label=version.ref)
        has_code = any(f.role == "code" for f in version.files)
        return root / "model", (root / "code" if has_code else None)

    def path_of(self, name: str, version: int | None = None) -> Path:
        """The local path of a model's file or folder (what Azure ML's ``Model.get_model_path`` returns)."""
        record = self.get(Reference(name, version=version))
        model_dir, _ = self.materialize(record)
        return model_dir / record.model_path.split("/", 1)[0]

    def load(
        self,
        ref: str | Reference,
        *,
        entry_script: str | os.PathLike[str] | None = None,
        source_directory: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> Runtime:
        """A loaded, ready runtime for a version; ``options`` override the version's runtime options, and an
        ``entry_script`` given here replaces the registered one."""
        version = self.get(ref)
        model_dir, code_dir = self.materialize(version)
        entry = version.entry_script
        if entry_script is not None:
            script = Path(entry_script)
            code_dir = Path(source_directory) if source_directory is not None else script.parent
            if not (script if source_directory is None or script.is_absolute() else code_dir / script).is_file():
                raise InvalidInputError(f"cannot read the entry script {script}: no such file")
            entry = script.name if source_directory is None else script.as_posix()
            code_dir = code_dir.resolve()
        context = model_context(
            version, model_dir, code_dir, entry_script=entry, options=options, resolve_model_path=self.path_of
        )
        runtime = create_runtime(context)
        runtime.load()
        return runtime


def model_context(
    version: ModelVersion,
    model_dir: Path,
    code_dir: Path | None,
    *,
    entry_script: str | None = None,
    options: Mapping[str, Any] | None = None,
    resolve_model_path: ModelPathResolver | None = None,
) -> ModelContext:
    """What a runtime knows of a version whose files are at ``model_dir`` (and ``code_dir``): ``options`` override
    the version's runtime options; ``entry_script`` defaults to the registered one."""
    return ModelContext(
        name=version.name,
        version=version.version,
        framework=version.framework,
        model_dir=model_dir,
        model_path=version.model_path,
        code_dir=code_dir,
        entry_script=version.entry_script if entry_script is None else entry_script,
        signature=Signature.from_dict(version.signature) if version.signature else None,
        options={**version.runtime_options, **(options or {})},
        resolve_model_path=resolve_model_path,
    )
