"""modelport: take a trained model to production and keep it healthy.

>>> from modelport import Workspace
>>> ws = Workspace()                                  # .modelport/ here, or $MODELPORT_HOME
>>> ws.models.register("iris", obj=fitted_estimator)  # doctest: +SKIP
>>> ws.models.load("iris@production").predict([[5.1, 3.5, 1.4, 0.2]])  # doctest: +SKIP
"""

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    ConflictError,
    IntegrityError,
    InvalidInputError,
    ModelportError,
    NotFoundError,
    ScriptError,
)
from .registry import EnvironmentVersion, ModelVersion, Resources
from .runtimes import Runtime

if TYPE_CHECKING:
    from .client import ScoringClient
    from .registry import Workspace


def __getattr__(name: str) -> Any:
    # Imported on first use: the workspace brings SQLAlchemy, which a scoring server does without, and the client
    # brings httpx, which scripts that only register skip.
    if name == "Workspace":
        from .registry.workspace import Workspace

        return Workspace
    if name == "ScoringClient":
        from .client import ScoringClient

        return ScoringClient
    raise AttributeError(f"module 'modelport' has no attribute {name!r}")


__all__ = [
    "ConflictError",
    "EnvironmentVersion",
    "IntegrityError",
    "InvalidInputError",
    "ModelVersion",
    "ModelportError",
    "NotFoundError",
    "Resources",
    "Runtime",
    "ScoringClient",
    "ScriptError",
    "Workspace",
    "__version__",
]
