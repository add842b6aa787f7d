"""scikit-learn models, and any joblib/pickle object with ``predict`` (or ``predict_proba``...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from ..codecs.signature import Signature
from ..codecs.tabular import to_frame_or_array
from ..errors import InvalidInputError
from ._imports import require
from .base import Runtime, rejected_input, tabular_signature

METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform")


class SklearnRuntime(Runtime):
    """Options: ``method`` (predict, predict_proba, predict_log_proba, decision_function, transform)."""

    framework = "sklearn"
    option_types: ClassVar[dict[str, type]] = {"method": str}
    batchable = True

    def load(self) -> None:
        joblib = require("joblib", "sklearn", "loading a joblib model")
        method = self.options.get("method", "predict")
        if method not in METHODS:
            raise InvalidInputError(f"option method={method!r} is not one of {', '.join(METHODS)}")
        try:
            self.model = joblib.load(self.context.model_file)
        except Exception as exc:  # unpickling raises many unrelated types (ValueError, EOFError, KeyError...)
            raise InvalidInputError(
                f"{self.context.model_path} is not a loadable joblib or pickle file: {type(exc).__name__}: {exc}"
            ) from exc
        predict = getattr(self.model, method, None)
        if predict is None:
            raise InvalidInputError(
                f"model {self.context.name}:{self.context.version} ({type(self.model).__name__}) has no "
                f"{method}() method"
            )
        self._predict: Callable[[Any], Any] = predict
        names = getattr(self.model, "feature_names_in_", None)
        self.feature_names: list[str] | None = [str(n) for n in names] if names is not None else None
        self.n_features: int | None = getattr(self.model, "n_features_in_", None)
        self.ready = True

    def prepare(self, data: Any) -> Any:
        return to_frame_or_array(data, self.feature_names, self.n_features)

    def infer(self, batch: Any) -> Any:
        try:
            return self._predict(batch)
        except (ValueError, TypeError, KeyError) as exc:
            raise rejected_input(exc, self.context) from exc

    def describe(self) -> Signature:
        return tabular_signature(self.context, self.feature_names, self.n_features)

    def unload(self) -> None:
        self.model = None
        super().unload()
