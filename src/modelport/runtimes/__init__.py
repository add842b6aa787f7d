"""Runtimes: load a model version and predict in-process. Frameworks are imported only when used."""

from __future__ import annotations

import importlib

from ..errors import InvalidInputError
from .base import ModelContext, Runtime

__all__ = ["RUNTIMES", "ModelContext", "Runtime", "create_runtime"]

# framework -> "module:class", imported on first use so that `import modelport` stays light.
RUNTIMES: dict[str, str] = {
    "sklearn": "modelport.runtimes.sklearn:SklearnRuntime",
    "onnx": "modelport.runtimes.onnx:OnnxRuntime",
    "lightgbm": "modelport.runtimes.boosters:LightGBMRuntime",
    "xgboost": "modelport.runtimes.boosters:XGBoostRuntime",
    "script": "modelport.runtimes.script:ScriptRuntime",
}


def runtime_class(framework: str) -> type[Runtime]:
    target = RUNTIMES.get(framework)
    if target is None:
        raise InvalidInputError(
            f"modelport has no no-code runtime for {framework} models: serve it with an entry script "
            "(init() and run(data)) registered with the model (--entry-script) or given when loading"
        )
    module_name, _, class_name = target.partition(":")
    cls: type[Runtime] = getattr(importlib.import_module(module_name), class_name)
    return cls


def create_runtime(context: ModelContext) -> Runtime:
    """The runtime for a context: the script runtime when there is an entry script, else the framework's."""
    return runtime_class("script" if context.entry_script else context.framework)(context)
