"""The OpenAPI document of a scoring service (``GET /swagger.json?version=2|3|3.1``), as Azure ML generates it: the
request and response schemas come from a script's ``inference_schema`` decorators, else from the model's registered
sample input and output; a ``swagger.json`` (v2; or ``swagger2.json``, ``swagger3.json``, ``swagger3.1.json``)
beside the entry script replaces the generated document."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ..codecs.json import loads
from ..errors import NotFoundError
from ..runtimes.script import ScriptRuntime
from .service import ServedModel

VERSIONS = {"2": "2", "2.0": "2", "3": "3", "3.0": "3", "3.1": "3.1"}
OVERRIDES = {"2": ("swagger.json", "swagger2.json"), "3": ("swagger3.json",), "3.1": ("swagger3.1.json",)}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "error": {"type": "string"}, "code": {"type": "string"}},
}


def schema_of(sample: Any) -> dict[str, Any]:
    """A JSON schema read off an example value."""
    if isinstance(sample, bool):
        return {"type": "boolean"}
    if isinstance(sample, int):
        return {"type": "integer", "format": "int64"}
    if isinstance(sample, float):
        return {"type": "number", "format": "double"}
    if isinstance(sample, str):
        return {"type": "string"}
    if isinstance(sample, list):
        return {"type": "array", "items": schema_of(sample[0]) if sample else {}}
    if isinstance(sample, dict):
        return {"type": "object", "properties": {str(k): schema_of(v) for k, v in sample.items()}}
    return {}


def _io_schemas(model: ServedModel) -> tuple[dict[str, Any], dict[str, Any]]:
    runtime = model.runtime
    if isinstance(runtime, ScriptRuntime) and runtime.input_swagger is not None:
        request = copy.deepcopy(runtime.input_swagger)
        request.get("properties", {}).pop("request_headers", None)
        if isinstance(request.get("example"), dict):
            request["example"].pop("request_headers", None)
        response = copy.deepcopy(runtime.output_swagger) or {"type": "object", "example": {}}
        return request, response
    record = model.record
    request = (
        {**schema_of(record.sample_input), "example": record.sample_input}
        if record.sample_input is not None
        else {"type": "object", "example": {}}
    )
    response = (
        {**schema_of(record.sample_output), "example": record.sample_output}
        if record.sample_output is not None
        else {"type": "object", "example": {}}
    )
    return request, response


def _override(model: ServedModel, version: str) -> dict[str, Any] | None:
    code_dir = model.runtime.context.code_dir
    if code_dir is None:
        return None
    for name in OVERRIDES[version]:
        path = Path(code_dir) / name
        if path.is_file():
            document: dict[str, Any] = loads(path.read_bytes(), what=f"swagger file {name}")
            return document
    return None


def _score_operation(name: str, request_ref: str, response_ref: str, version: str) -> dict[str, Any]:
    if version == "2":
        return {
            "operationId": f"RunMLService_{name}" if name else "RunMLService",
            "description": "Score the input with the model",
            "security": [{"Bearer": []}],
            "parameters": [
                {
                    "name": "serviceInputPayload",
                    "in": "body",
                    "required": True,
                    "schema": {"$ref": f"#/definitions/{request_ref}"},
                }
            ],
            "responses": {
                "200": {"description": "The prediction", "schema": {"$ref": f"#/definitions/{response_ref}"}},
                "default": {"description": "An error", "schema": {"$ref": "#/definitions/ErrorResponse"}},
            },
        }
    return {
        "operationId": f"RunMLService_{name}" if name else "RunMLService",
        "description": "Score the input with the model",
        "security": [{"Bearer": []}],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{request_ref}"}}},
        },
        "responses": {
            "200": {
                "description": "The prediction",
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{response_ref}"}}},
            },
            "default": {
                "description": "An error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
            },
        },
    }


def document(models: list[ServedModel], requested: str | None, service_name: str) -> dict[str, Any]:
    """The swagger document for ``models`` in the requested version (2 by default)."""
    version = VERSIONS.get(requested or "2")
    if version is None:
        raise NotFoundError(f"Swagger version [{requested}] is not valid. Supported versions: [2, 3, 3.1].")
    if len(models) == 1 and (found := _override(models[0], version)) is not None:
        return found
    schemas: dict[str, Any] = {"ErrorResponse": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    health = {
        "operationId": "ServiceHealthCheck",
        "description": "Liveness: answers Healthy",
        "responses": {"200": {"description": "Healthy"}},
    }
    paths["/"] = {"get": health}
    for model in models:
        suffix = "" if len(models) == 1 else f"_{model.name}"
        request, response = _io_schemas(model)
        schemas[f"ServiceInput{suffix}"] = request
        schemas[f"ServiceOutput{suffix}"] = response
        path = "/score" if len(models) == 1 else f"/models/{model.name}/score"
        paths[path] = {
            "post": _score_operation(
                model.name if suffix else "", f"ServiceInput{suffix}", f"ServiceOutput{suffix}", version
            )
        }
    info = {
        "title": service_name,
        "version": "1.0",
        "description": "API of the modelport scoring service: " + ", ".join(m.record.ref for m in models),
    }
    if version == "2":
        return {
            "swagger": "2.0",
            "info": info,
            "schemes": ["http", "https"],
            "consumes": ["application/json"],
            "produces": ["application/json"],
            "securityDefinitions": {
                "Bearer": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "description": "For example: Bearer abc123",
                }
            },
            "paths": paths,
            "definitions": schemas,
        }
    return {
        "openapi": "3.0.3" if version == "3" else "3.1.0",
        "info": info,
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"Bearer": {"type": "http", "scheme": "bearer"}}},
    }
