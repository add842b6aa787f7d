"""State: the metadata database, the content-addressed artifact store, models and environments.

The records are plain dataclasses and import at once; the rest is imported on first use: the registries and the
workspace bring SQLAlchemy, which a scoring server does without (it reads its models through ``ModelCatalog``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .records import EnvironmentVersion, ModelFile, ModelVersion, Resources

if TYPE_CHECKING:
    from .catalog import ModelCatalog
    from .environments import EnvironmentRegistry
    from .models import ModelRegistry
    from .workspace import Workspace

_LAZY = {
    "EnvironmentRegistry": ".environments",
    "ModelCatalog": ".catalog",
    "ModelRegistry": ".models",
    "Workspace": ".workspace",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EnvironmentRegistry",
    "EnvironmentVersion",
    "ModelCatalog",
    "ModelFile",
    "ModelRegistry",
    "ModelVersion",
    "Resources",
    "Workspace",
]
