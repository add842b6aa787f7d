"""What the Azure ML compatibility modules answer from: the models loaded in this process, and a resolver that
finds any other model in the workspace. Kept apart from the compatibility modules so that it exists once however
those modules are imported."""

from __future__ import annotations

import threading
from pathlib import Path

from ..errors import NotFoundError
from .base import ModelPathResolver

_lock = threading.Lock()
_loaded: dict[tuple[str, int], Path] = {}
_resolver: ModelPathResolver | None = None


def register(name: str, version: int, path: Path, resolver: ModelPathResolver | None) -> None:
    global _resolver
    with _lock:
        _loaded[(name, version)] = path
        if resolver is not None:
            _resolver = resolver


def unregister(name: str, version: int) -> None:
    with _lock:
        _loaded.pop((name, version), None)


def model_path(name: str, version: int | None = None) -> Path:
    """The path of a model's file or folder, as Azure ML's ``Model.get_model_path`` gives it."""
    with _lock:
        matches = sorted((v, p) for (n, v), p in _loaded.items() if n == name and version in (None, v))
        resolver = _resolver
    if matches:
        return matches[-1][1]
    if resolver is not None:
        return resolver(name, version)
    wanted = f"{name}:{version}" if version is not None else name
    raise NotFoundError(f"model {wanted!r} is not loaded here and no workspace is available to find it")
