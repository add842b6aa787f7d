"""LightGBM and XGBoost native model files."""

from __future__ import annotations

from typing import Any, ClassVar

from ..codecs.signature import Signature
from ..codecs.tabular import to_frame_or_array
from ..errors import InvalidInputError
from ._imports import require
from .base import Runtime, rejected_input, tabular_signature


def _names(names: list[str] | None, default_prefix: str) -> list[str] | None:
    """Feature names the user gave, or None when the library made them up (Column_0, f0...)."""
    if not names or all(n.startswith(default_prefix) and n[len(default_prefix) :].isdigit() for n in names):
        return None
    return list(names)


class LightGBMRuntime(Runtime):
    """Options: ``raw_score`` (bool), ``num_iteration`` (int)."""

    framework = "lightgbm"
    option_types: ClassVar[dict[str, type]] = {"raw_score": bool, "num_iteration": int}
    batchable = True

    def load(self) -> None:
        lgb = require("lightgbm", "lightgbm", "loading a LightGBM model")
        try:
            self.booster = lgb.Booster(model_file=str(self.context.model_file))
        except lgb.basic.LightGBMError as exc:
            raise InvalidInputError(f"{self.context.model_path} is not a LightGBM model file: {exc}") from exc
        self.feature_names = _names(self.booster.feature_name(), "Column_")
        self.n_features = self.booster.num_feature()
        self.ready = True

    def prepare(self, data: Any) -> Any:
        return to_frame_or_array(data, self.feature_names, self.n_features)

    def infer(self, batch: Any) -> Any:
        try:
            return self.booster.predict(batch, **self.options)
        except (ValueError, TypeError) as exc:
            raise rejected_input(exc, self.context) from exc
        except Exception as exc:
            if type(exc).__name__ == "LightGBMError":
                raise rejected_input(exc, self.context) from exc
            raise

    def describe(self) -> Signature:
        return tabular_signature(self.context, self.feature_names, self.n_features)


class XGBoostRuntime(Runtime):
    """Options: ``output_margin`` (bool)."""

    framework = "xgboost"
    option_types: ClassVar[dict[str, type]] = {"output_margin": bool}
    batchable = True

    def load(self) -> None:
        self.xgb = require("xgboost", "xgboost", "loading an XGBoost model")
        self.booster = self.xgb.Booster()
        try:
            self.booster.load_model(str(self.context.model_file))
        except self.xgb.core.XGBoostError as exc:
            raise InvalidInputError(f"{self.context.model_path} is not an XGBoost model file: {exc}") from exc
        self.feature_names = _names(self.booster.feature_names, "f")
        self.n_features = self.booster.num_features()
        self.ready = True

    def prepare(self, data: Any) -> Any:
        batch = to_frame_or_array(data, self.feature_names, self.n_features)
        shape: tuple[int, ...] = getattr(batch, "shape", ())
        if len(shape) == 2 and shape[1] < self.n_features:  # XGBoost would score the absent columns as missing
            raise InvalidInputError(
                f"model {self.context.name}:{self.context.version} rejected the input: each row has {shape[1]} "
                f"values; the model expects {self.n_features}"
            )
        return batch

    def infer(self, batch: Any) -> Any:
        try:
            matrix = self.xgb.DMatrix(batch, feature_names=self.feature_names)
            return self.booster.predict(matrix, **self.options)
        except (ValueError, TypeError, self.xgb.core.XGBoostError) as exc:
            raise rejected_input(exc, self.context) from exc

    def describe(self) -> Signature:
        return tabular_signature(self.context, self.feature_names, self.n_features)
