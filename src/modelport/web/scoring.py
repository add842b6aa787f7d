"""The scoring app: Azure ML compatible routes, Open Inference Protocol V2 routes, health and metrics.

Routes (``{name}`` may carry ``/versions/{version}``):

- ``GET /`` -> ``Healthy``; ``GET|POST|OPTIONS /score`` and ``/models/{name}/score``; ``GET /swagger.json``
- ``GET /health/live``, ``GET /health/ready``, ``GET /metrics``
- ``GET /v2``, ``/v2/health/live|ready``, ``/v2/models/{name}``, ``.../ready``, ``POST .../infer``
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import Token as VarToken

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from ..codecs.json import dumps
from ..errors import InvalidInputError, NotFoundError
from ..runtimes.azureml_compat.contrib.services.aml_request import UploadedFile
from ..runtimes.script import ScriptRuntime
from ..serving import context, logs, swagger
from ..serving.azure import RawRequest, Reply, score_script
from ..serving.metrics import CONTENT_TYPE
from ..serving.payload import score_payload
from ..serving.service import InferenceService, ServedModel
from . import v2
from .body import read_body
from .errors import error_body, error_response

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("modelport.access")

Handler = Callable[[Request], Awaitable[Response]]
Token = tuple[VarToken[str | None], VarToken[str | None], VarToken[int | None]]
MAX_REQUEST_ID = 100


def request_ids(header: Callable[[str], str | None]) -> tuple[str, list[tuple[str, str]]]:
    """The request id (echoed or new) and the id headers of the reply, as Azure ML sends them; ``header`` looks a
    request header up by its lower-case name."""
    given = header("x-request-id")
    if given is not None and len(given) > MAX_REQUEST_ID:
        raise InvalidInputError(f"x-request-id must not exceed {MAX_REQUEST_ID} characters")
    request_id = given or context.new_request_id()
    client_id = header("x-ms-client-request-id")
    legacy = header("x-ms-request-id")
    headers = [("x-request-id", request_id), ("x-ms-request-id", legacy or client_id or request_id)]
    if client_id or legacy:
        headers.append(("x-ms-client-request-id", client_id or legacy or ""))
    return request_id, headers


class ScoringApp:
    """The handlers of one scoring service; ``create_scoring_app`` wires them into a Starlette app."""

    def __init__(self, service: InferenceService) -> None:
        self.service = service
        self.settings = service.settings
        self.metrics = service.metrics
        self.access_log = logs.AccessLog(access_logger)

    def begin(self) -> Token:
        """Start handling a request: counted in progress, with a fresh request context."""
        self.metrics.in_progress.inc()
        return context.request_id.set(None), context.model_name.set(None), context.model_version.set(None)

    def record(self, route: str, method: str, path: str, status: int, started: float) -> None:
        """A request answered: its metrics and its one structured access log line (read while its context holds)."""
        seconds = time.perf_counter() - started
        model, version = context.model_name.get(), context.model_version.get()
        self.metrics.observe(model or "", "" if version is None else str(version), route, status, seconds)
        self.access_log.write(method, path, status, seconds)

    def end(self, token: Token) -> None:
        """Done with a request however it ended (a cancelled one too): no longer in progress, context put back."""
        self.metrics.in_progress.dec()
        context.request_id.reset(token[0])
        context.model_name.reset(token[1])
        context.model_version.reset(token[2])

    def endpoint(self, route: str, handler: Handler) -> Handler:
        """Wrap a handler: request ids, errors as JSON, metrics and one structured access log line."""

        async def wrapped(request: Request) -> Response:
            started = time.perf_counter()
            token = self.begin()
            try:
                id_headers: list[tuple[str, str]] = []
                try:
                    request_id, id_headers = request_ids(request.headers.get)
                    context.request_id.set(request_id)
                    response = await handler(request)
                except Exception as exc:  # every failure becomes the one JSON error shape
                    response = error_response(exc)
                for key, value in id_headers:
                    response.headers.append(key, value)
                self.record(route, request.method, request.url.path, response.status_code, started)
                return response
            finally:
                self.end(token)

        return wrapped

    # -- Azure ML compatible ------------------------------------------------------------------------------------

    async def root(self, request: Request) -> Response:
        return PlainTextResponse("Healthy", media_type="text/html")

    def _model(self, request: Request) -> ServedModel:
        model = self.service.resolve(request.path_params.get("name"), request.path_params.get("version"))
        context.model_name.set(model.name)
        context.model_version.set(model.version)
        return model

    async def score(self, request: Request) -> Response:
        model = self._model(request)
        started = time.perf_counter()
        if isinstance(model.runtime, ScriptRuntime):
            reply = await score_script(self.service, model, await self._raw_request(request, model.runtime))
        elif request.method == "OPTIONS":
            reply = Reply(200, b"", "text/plain", [("allow", "POST, OPTIONS")])
        elif request.method != "POST":
            raise InvalidInputError(f"{model.record.ref} scores JSON sent with POST, not {request.method}")
        else:
            body = await read_body(request, self.settings.max_body_bytes)
            reply = await score_payload(self.service, model, body)
        elapsed_ms = (time.perf_counter() - started) * 1000
        response = Response(reply.body, status_code=reply.status, media_type=reply.media_type)
        for key, value in reply.headers:
            response.headers.append(key, value)
        response.headers["x-ms-run-fn-exec-ms"] = f"{elapsed_ms:.3f}"
        return response

    async def _raw_request(self, request: Request, runtime: ScriptRuntime) -> RawRequest:
        body = await read_body(request, self.settings.max_body_bytes)
        raw = RawRequest(request.method, request.url.path, request.url.query, request.headers.items(), body)
        mimetype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if runtime.rawhttp and mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            async with request.form() as form:  # closes the uploads' temporary files once read
                for key, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        raw.files[key] = UploadedFile(value.filename, value.content_type, await value.read(), key)
                    else:
                        raw.form[key] = value
        return raw

    async def swagger(self, request: Request) -> Response:
        self.service.check_ready()
        document = swagger.document(
            self.service.models, request.query_params.get("version"), self.settings.service_name
        )
        return Response(dumps(document), media_type="application/json")

    # -- operations ---------------------------------------------------------------------------------------------

    async def live(self, request: Request) -> Response:
        return JSONResponse({"status": "live"})

    async def ready(self, request: Request) -> Response:
        self.service.check_ready()
        return JSONResponse({"status": "ready", "models": [m.record.ref for m in self.service.models]})

    async def metrics_page(self, request: Request) -> Response:
        self.metrics.loaded(self.service.ready, self.service.models)
        return Response(self.metrics.render(), media_type=CONTENT_TYPE)


def create_scoring_app(service: InferenceService, *, load_on_startup: bool = False) -> ASGIApp:
    """The ASGI app serving ``service``. With ``load_on_startup`` the models load in the background after the app
    starts (liveness answers at once, readiness once they are loaded); otherwise call ``service.load()`` first.
    Score requests for no-code models take the hot path (``web.hot``); the rest are routed by Starlette."""
    from .hot import HotPath

    app = ScoringApp(service)
    v2_routes = v2.V2Routes(service, app.settings)

    def load_in_background() -> None:
        try:
            service.load()
        except Exception:  # the service keeps the reason, which /health/ready answers with
            logger.exception("loading the models failed")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        import asyncio

        task = asyncio.get_running_loop().run_in_executor(None, load_in_background) if load_on_startup else None
        try:
            yield
        finally:
            if task is not None and not task.done():
                task.cancel()

    score_methods = ["GET", "POST", "OPTIONS"]
    routes = [
        Route("/", app.endpoint("root", app.root), methods=["GET"]),
        Route("/score", app.endpoint("score", app.score), methods=score_methods),
        Route("/models/{name}/score", app.endpoint("score", app.score), methods=score_methods),
        Route("/models/{name}/versions/{version}/score", app.endpoint("score", app.score), methods=score_methods),
        Route("/swagger.json", app.endpoint("swagger", app.swagger), methods=["GET"]),
        Route("/health/live", app.endpoint("live", app.live), methods=["GET"]),
        Route("/health/ready", app.endpoint("ready", app.ready), methods=["GET"]),
        Route("/metrics", app.metrics_page, methods=["GET"]),
        *[
            Route(path, app.endpoint(name, handler), methods=methods)
            for path, name, handler, methods in v2_routes.table()
        ],
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404

        async def answer(_: Request) -> Response:
            if status == 405:
                message = f"{request.method} is not allowed on {request.url.path}"
                body = error_body(message, "method_not_allowed")
                return Response(body, status_code=405, media_type="application/json")
            raise NotFoundError(f"no route {request.url.path}; see /swagger.json")

        # through the same wrapper as the routes: request ids, metrics and an access log line for these too
        return await app.endpoint("unmatched", answer)(request)

    routed = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found, 405: not_found})
    return HotPath(app, routed)
