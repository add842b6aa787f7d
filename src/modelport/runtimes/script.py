"""Entry scripts in the Azure ML style: a Python file with ``init()`` and ``run(data)``.

The model folder is exposed as ``AZUREML_MODEL_DIR``, the script's source directory is put on ``sys.path``, and
``azureml.core.model.Model.get_model_path`` answers from the workspace when the Azure SDK is not installed.
``run`` receives the raw request text, or, when decorated with ``inference_schema``'s ``@input_schema``, the
parameters taken from a JSON object by name.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import itertools
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from ..codecs.json import dumps
from ..errors import InvalidInputError, ModelportError, ScriptError
from . import _azureml_context, azureml_compat
from .base import Runtime

logger = logging.getLogger(__name__)
_import_lock = threading.Lock()
_loads = itertools.count(1)


def schema_parameters(run: Callable[..., Any]) -> dict[str, Any] | None:
    """The ``@input_schema`` parameters of a decorated ``run`` (name -> swagger schema), else None."""
    schemas = swagger_schemas(run)
    if schemas is None:
        return None
    properties: dict[str, Any] = schemas[0].get("properties", {})
    return properties


def swagger_schemas(run: Callable[..., Any]) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """(input schema, output schema or None) of an ``inference_schema`` decorated ``run``, else None."""
    try:
        from inference_schema.schema_util import get_input_schema, get_output_schema, is_schema_decorated
    except ModuleNotFoundError:
        return None
    if not is_schema_decorated(run):
        return None
    return get_input_schema(run) or {}, get_output_schema(run) or None


def _aml_request_module() -> ModuleType | None:
    """The ``aml_request`` module scripts import (the Azure SDK's when installed, else ours)."""
    try:
        return importlib.import_module("azureml.contrib.services.aml_request")
    except ImportError:
        return None


class ScriptRuntime(Runtime):
    framework = "script"

    def load(self) -> None:
        ctx = self.context
        if ctx.code_dir is None or ctx.entry_script is None:
            raise InvalidInputError(f"model {ctx.name}:{ctx.version} has no entry script to run")
        script = ctx.code_dir / ctx.entry_script
        if not script.is_file():
            raise InvalidInputError(f"the entry script {ctx.entry_script} is missing from the model's code")
        azureml_compat.install()
        top = ctx.model_dir / ctx.model_path.split("/", 1)[0]
        _azureml_context.register(ctx.name, ctx.version, top, ctx.resolve_model_path)
        os.environ["AZUREML_MODEL_DIR"] = str(ctx.model_dir)
        aml_request = _aml_request_module()
        with _import_lock:  # @rawhttp sets a module flag while the script imports: read it for this script alone
            if aml_request is not None:
                aml_request._rawHttpRequested = False  # type: ignore[attr-defined]
            self.module = self._import(script)
            self.rawhttp = bool(getattr(aml_request, "_rawHttpRequested", False))
        run = getattr(self.module, "run", None)
        if not callable(run):
            raise InvalidInputError(f"the entry script {ctx.entry_script} defines no run() function")
        self.run: Callable[..., Any] = run
        self.parameters = schema_parameters(run)
        declared = inspect.signature(run).parameters
        self.takes_headers = "request_headers" in declared
        self.required_parameters = [  # a parameter with a default may be left out, as in Azure ML
            name
            for name in self.parameters or {}
            if name != "request_headers" and (name not in declared or declared[name].default is inspect.Parameter.empty)
        ]
        schemas = swagger_schemas(run)
        self.input_swagger: dict[str, Any] | None = schemas[0] if schemas is not None else None
        self.output_swagger: dict[str, Any] | None = schemas[1] if schemas is not None else None
        if self.rawhttp and self.parameters is not None:
            raise InvalidInputError(f"run() of {ctx.entry_script} cannot be both @rawhttp and @input_schema decorated")
        init = getattr(self.module, "init", None)
        if callable(init):
            self._call(init, "init()")
        self.ready = True

    def _import(self, script: os.PathLike[str]) -> ModuleType:
        """Import the script as a module of its own; the caller holds ``_import_lock``."""
        code_dir = str(self.context.code_dir)
        digest = hashlib.sha1(os.fsencode(script)).hexdigest()[:12]
        # a new name at each load: inference_schema keeps its decorators' schemas per "module.function" for good,
        # and refuses a second definition, so a script loaded again under the same name would fail to import
        name = f"modelport_entry_{digest}_{next(_loads)}"
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)
        spec = importlib.util.spec_from_file_location(name, script)
        if spec is None or spec.loader is None:
            raise InvalidInputError(f"cannot import the entry script {script}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            raise ScriptError(
                f"the entry script {self.context.entry_script} failed to import: {type(exc).__name__}: {exc}"
            ) from exc
        return module

    def _call(self, function: Callable[..., Any], label: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ModelportError:
            raise
        except Exception as exc:
            raise ScriptError(f"{label} of {self.context.entry_script} raised {type(exc).__name__}: {exc}") from exc

    def call_run(self, *args: Any, **kwargs: Any) -> Any:
        """Call ``run`` with arguments already prepared (by the scoring server); its failures are ScriptErrors."""
        return self._call(self.run, "run()", *args, **kwargs)

    def predict(self, data: Any, headers: Mapping[str, str] | None = None) -> Any:
        """Call ``run``: with named parameters when it is schema-decorated, with a POST request object when it is
        ``@rawhttp``, else with the raw text."""
        extra = {"request_headers": dict(headers or {})} if self.takes_headers else {}
        if self.rawhttp:
            return self._predict_raw(data, headers or {}, extra)
        if self.parameters is not None:
            payload = _as_object(data)
            missing = [name for name in self.required_parameters if name not in payload]
            if missing:
                raise InvalidInputError(
                    "the input lacks the parameter(s) "
                    + ", ".join(map(repr, missing))
                    + " that run() declares with @input_schema"
                )
            arguments = {k: v for k, v in payload.items() if k in self.parameters}
            return self._call(self.run, "run()", **arguments, **extra)
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInputError(f"the input is not UTF-8 text, which run() takes: {exc}") from exc
        elif not isinstance(data, str):
            data = dumps(data).decode("utf-8")
        return self._call(self.run, "run()", data, **extra)

    def _predict_raw(self, data: Any, headers: Mapping[str, str], extra: dict[str, Any]) -> Any:
        """In-process scoring of a ``@rawhttp`` script: a JSON POST to /score; an ``AMLResponse`` is unwrapped, and
        one with an error status becomes the matching error."""
        from .azureml_compat.contrib.services.aml_request import AMLRequest
        from .azureml_compat.contrib.services.aml_response import AMLResponse

        body = data if isinstance(data, bytes) else data.encode() if isinstance(data, str) else dumps(data)
        request = AMLRequest("POST", "/score", "", [("content-type", "application/json"), *headers.items()], body)
        result = self._call(self.run, "run()", request, **extra)
        if not isinstance(result, AMLResponse):
            return result
        if result.status_code >= 500:
            raise ScriptError(f"run() of {self.context.entry_script} answered {result.status_code}: {result.message}")
        if result.status_code >= 400:
            message = (
                result.message.get("message", result.message) if isinstance(result.message, dict) else result.message
            )
            raise InvalidInputError(str(message))
        return result.message

    def unload(self) -> None:
        _azureml_context.unregister(self.context.name, self.context.version)
        super().unload()


def _as_object(data: Any) -> dict[str, Any]:
    if isinstance(data, bytes | str):
        from ..codecs.json import loads

        data = loads(data)
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"run() takes named parameters, so the input must be a JSON object; got {type(data).__name__}"
        )
    return data
