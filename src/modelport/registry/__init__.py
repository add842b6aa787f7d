"""State: the metadata database, the content-addressed artifact store, models and environments."""

from .environments import EnvironmentRegistry
from .models import ModelRegistry
from .records import EnvironmentVersion, ModelFile, ModelVersion, Resources
from .workspace import Workspace

__all__ = [
    "EnvironmentRegistry",
    "EnvironmentVersion",
    "ModelFile",
    "ModelRegistry",
    "ModelVersion",
    "Resources",
    "Workspace",
]
