"""The runtime interface: load a model version from a folder, predict on a batch, describe, unload.

A runtime knows nothing of HTTP or of the workspace. It receives a ``ModelContext`` (where the verified files are,
what the version says about itself, the options in force) and may be used from any thread once loaded.

``predict(data)`` is ``infer(prepare(data))``: ``prepare`` turns one request's decoded payload into the model's
input and checks it (cheap, per request), ``infer`` calls the model. A runtime whose ``infer`` is vectorised over
rows says so with ``batchable``: the serving layer may then score the prepared inputs of several requests in one
``infer`` call (see ``serving.batching``).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..codecs.signature import Signature
from ..errors import InvalidInputError

logger = logging.getLogger(__name__)

ModelPathResolver = Callable[[str, int | None], Path]

# Options every runtime takes, read by the serving layer rather than the model: adaptive batching per model.
SERVING_OPTIONS: Mapping[str, type] = {"batching": bool, "max_batch_size": int, "max_latency_ms": float}


@dataclass(frozen=True)
class ModelContext:
    """Everything a runtime may know about the model version it serves."""

    name: str
    version: int
    framework: str
    model_dir: Path
    model_path: str
    code_dir: Path | None = None
    entry_script: str | None = None
    signature: Signature | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    resolve_model_path: ModelPathResolver | None = None

    @property
    def model_file(self) -> Path:
        return self.model_dir / self.model_path


class Runtime(ABC):
    """Base of every runtime. Subclasses list their options in ``option_types`` (name -> type)."""

    framework: ClassVar[str]
    option_types: ClassVar[Mapping[str, type]] = {}
    batchable: bool = False  # infer() scores rows independently: several requests' rows may share one call

    def __init__(self, context: ModelContext) -> None:
        self.context = context
        own = {k: v for k, v in context.options.items() if k not in SERVING_OPTIONS}
        self.options = self._check_options(own)
        self.serving_options = self._check_options(
            {k: v for k, v in context.options.items() if k in SERVING_OPTIONS}, SERVING_OPTIONS
        )
        self.ready = False

    @classmethod
    def _check_options(cls, options: Mapping[str, Any], types: Mapping[str, type] | None = None) -> dict[str, Any]:
        types = cls.option_types if types is None else types
        checked: dict[str, Any] = {}
        for key, value in options.items():
            expected = types.get(key)
            if expected is None:
                allowed = ", ".join(sorted(cls.option_types)) or "none"
                raise InvalidInputError(
                    f"unknown option {key!r} for the {cls.framework} runtime; its options are: {allowed} "
                    f"(and, for serving, {', '.join(SERVING_OPTIONS)})"
                )
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if expected is list and isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise InvalidInputError(
                    f"option {key!r} of the {cls.framework} runtime must be a {expected.__name__}, got {value!r}"
                )
            checked[key] = value
        return checked

    @abstractmethod
    def load(self) -> None:
        """Load the model into memory; after this, ``predict`` may be called."""

    def prepare(self, data: Any) -> Any:
        """One request's decoded payload (lists, dicts, strings, or an array or frame) as the model's input, checked:
        a bad payload raises ``InvalidInputError`` here, before it can share a batch with others."""
        return data

    def infer(self, batch: Any) -> Any:
        """Score a prepared input: one request's, or (``batchable`` runtimes) several concatenated by rows."""
        raise NotImplementedError(f"{type(self).__name__} scores through predict()")

    def predict(self, data: Any) -> Any:
        """Score one batch. ``data`` is a decoded payload (lists, dicts, strings) or an array or frame."""
        return self.infer(self.prepare(data))

    def describe(self) -> Signature:
        """The inputs and outputs: the registered signature when there is one, else what the model tells."""
        return self.context.signature or Signature()

    def unload(self) -> None:
        self.ready = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.context.name}:{self.context.version} ready={self.ready}>"


def rejected_input(exc: Exception, context: ModelContext) -> InvalidInputError:
    """A model's own complaint about its input (a ValueError from predict), as a user error."""
    return InvalidInputError(f"model {context.name}:{context.version} rejected the input: {exc}")


def tabular_signature(context: ModelContext, feature_names: list[str] | None, n_features: int | None) -> Signature:
    """The registered signature, else one read off a tabular model's feature names or feature count."""
    from ..codecs.signature import TensorSpec

    if context.signature is not None:
        return context.signature
    if feature_names:
        return Signature(inputs=[TensorSpec(n, "FP64", [-1]) for n in feature_names])
    if n_features is not None:
        return Signature(inputs=[TensorSpec("input", "FP64", [-1, int(n_features)])])
    return Signature()
