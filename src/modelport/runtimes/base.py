"""The runtime interface: load a model version from a folder, predict on a batch, describe, unload.

A runtime knows nothing of HTTP or of the workspace. It receives a ``ModelContext`` (where the verified files are,
what the version says about itself, the options in force) and may be used from any thread once loaded; whoever
calls ``predict`` keeps it off an event loop.
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

    def __init__(self, context: ModelContext) -> None:
        self.context = context
        self.options = self._check_options(context.options)
        self.ready = False

    @classmethod
    def _check_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        checked: dict[str, Any] = {}
        for key, value in options.items():
            expected = cls.option_types.get(key)
            if expected is None:
                allowed = ", ".join(sorted(cls.option_types)) or "none"
                raise InvalidInputError(
                    f"unknown option {key!r} for the {cls.framework} runtime; its options are: {allowed}"
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

    @abstractmethod
    def predict(self, data: Any) -> Any:
        """Score one batch. ``data`` is a decoded payload (lists, dicts, strings) or an array or frame."""

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
