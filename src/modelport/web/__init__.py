"""ASGI apps: the scoring app and, later, the control-plane API. The only package that knows Starlette."""

from .scoring import create_scoring_app
from .server import ScoringServer

__all__ = ["ScoringServer", "create_scoring_app"]
