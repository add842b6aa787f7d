"""Azure ML ``/score`` semantics, without a web framework: what ``run()`` receives and how its result is sent.

Three styles of ``run`` (see docs/notes/scoring-protocols.md for the server this mirrors):

- undecorated ``run(data)``: POST passes the body as text; GET passes the query as a JSON object text;
- ``@input_schema``: parameters by name from a JSON object body (415 for another content type, 400 naming a
  missing parameter);
- ``@rawhttp``: ``run(request)`` receives an ``AMLRequest`` and may return an ``AMLResponse``.

A parameter named ``request_headers`` receives the headers in every style. Anything but an ``AMLResponse`` is sent as
JSON (a returned string is encoded again and ``None`` is ``{}``, as Azure does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from ..codecs.json import dumps, loads
from ..errors import InvalidInputError, UnsupportedMediaTypeError
from ..runtimes.azureml_compat.contrib.services.aml_request import AMLRequest, UploadedFile
from ..runtimes.azureml_compat.contrib.services.aml_response import AMLResponse
from ..runtimes.script import ScriptRuntime
from .service import InferenceService, ServedModel

JSON = "application/json"


@dataclass
class RawRequest:
    """An HTTP request as the service needs it: the web layer fills it in."""

    method: str
    path: str
    query_string: str
    headers: list[tuple[str, str]]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    def header(self, name: str, default: str = "") -> str:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), default)

    @property
    def is_json(self) -> bool:
        mimetype = self.header("content-type").split(";", 1)[0].strip().lower()
        return mimetype == JSON or (mimetype.startswith("application/") and mimetype.endswith("+json"))


@dataclass
class Reply:
    """What to send back: status, body, media type and extra headers."""

    status: int
    body: bytes
    media_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)


def query_as_json(query_string: str) -> dict[str, Any]:
    """The query as Azure passes it to ``run`` on GET: each value parsed as JSON when it is JSON; repeated keys
    become lists."""
    result: dict[str, Any] = {}
    for key, raw in parse_qsl(query_string, keep_blank_values=True):
        try:
            value: Any = loads(raw)
        except InvalidInputError:
            value = raw
        if key in result:
            existing = result[key]
            result[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[key] = value
    return result


def _json_object(request: RawRequest) -> dict[str, Any]:
    if request.method == "GET":
        return query_as_json(request.query_string)
    if not request.is_json:
        raise UnsupportedMediaTypeError("Expects Content-Type to be application/json")
    if not request.body.strip():
        raise InvalidInputError("POST body is empty. Expecting a JSON dictionary.")
    try:
        payload = loads(request.body)
    except InvalidInputError as exc:
        raise InvalidInputError(f"POST body could not be decoded as JSON: {exc.__cause__ or exc}") from exc
    if not isinstance(payload, dict):
        raise InvalidInputError("POST body should be a JSON dictionary.")
    return payload


def run_arguments(runtime: ScriptRuntime, request: RawRequest) -> tuple[list[Any], dict[str, Any]]:
    """The positional and keyword arguments ``run`` receives for this request."""
    kwargs: dict[str, Any] = {}
    if runtime.takes_headers:
        kwargs["request_headers"] = {k.title(): v for k, v in request.headers}
    if runtime.rawhttp:
        aml = AMLRequest(
            request.method,
            request.path,
            request.query_string,
            request.headers,
            request.body,
            request.form,
            request.files,
        )
        return [aml], kwargs
    if runtime.parameters is not None:
        payload = _json_object(request)
        for name in runtime.parameters:
            if name == "request_headers":
                continue
            if name in payload:
                kwargs[name] = payload[name]
            elif name in runtime.required_parameters:
                raise InvalidInputError(f"A value is not provided for the '{name}' parameter.")
        return [], kwargs
    if request.method == "GET":
        return [dumps(query_as_json(request.query_string)).decode()], kwargs
    try:
        return [request.body.decode("utf-8")], kwargs
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"Input cannot be decoded as UTF-8: {exc}") from exc


def to_reply(result: Any) -> Reply:
    """``run()``'s result as a reply: an ``AMLResponse`` as it says, anything else as JSON with status 200."""
    if not isinstance(result, AMLResponse):
        return Reply(200, b"{}" if result is None else dumps(result))  # None is {} in Azure ML, not null
    failed = result.run_function_failed or result.status_code >= 500
    headers = [("x-ms-run-function-failed", str(failed))]
    media_type = ""
    for key, value in result.headers.items():
        if key.lower() == "content-type":
            media_type = value
        else:
            headers += [(key, part.strip()) for part in str(value).split(",")]
    if result.message is None:
        return Reply(result.status_code, b"{}", media_type or JSON, headers)
    if result.json_str:
        return Reply(result.status_code, dumps(result.message), media_type or JSON, headers)
    body = result.message if isinstance(result.message, bytes) else str(result.message).encode()
    return Reply(result.status_code, body, media_type or "text/html; charset=utf-8", headers)


async def score_script(service: InferenceService, model: ServedModel, request: RawRequest) -> Reply:
    """Handle ``/score`` for a model served by an entry script."""
    runtime = model.runtime
    if not isinstance(runtime, ScriptRuntime):
        raise TypeError(f"{model.record.ref} is not served by an entry script")
    if request.method == "OPTIONS" and not runtime.rawhttp:
        return Reply(200, b"", "text/plain")
    args, kwargs = run_arguments(runtime, request)
    result = await service.call(model, runtime.call_run, *args, **kwargs)
    return to_reply(result)
