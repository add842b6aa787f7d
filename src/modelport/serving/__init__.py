"""The inference service: loaded models, the predict path, Azure ML semantics, limits, metrics, logs. No web
framework here: the web layer calls this."""

from .service import InferenceService, ServedModel
from .settings import ServingSettings

__all__ = ["InferenceService", "ServedModel", "ServingSettings"]
