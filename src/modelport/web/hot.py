"""The hot path: ``POST`` to the score route of a no-code model, answered in plain ASGI.

Everything else goes to the Starlette app, whose routing, request objects and middleware cost more than a small model
takes to score (see docs/benchmarks.md). This path does the same work as the Starlette route, in the same order and
with the same answers: request ids, the body limit, the signature check, batching, the one error shape, metrics and
the access log line. The routes it takes are fixed once every model is loaded: ``/score`` (when one model name is
served) and ``/models/{name}[/versions/{version}]/score`` of each model that has no entry script.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from ..runtimes.script import ScriptRuntime
from ..serving import context
from ..serving.payload import score_payload
from ..serving.service import ServedModel
from .body import check_declared, over_limit
from .errors import error_response
from .scoring import ScoringApp, request_ids

EXEC_MS = "x-ms-run-fn-exec-ms"


class HotPath:
    """An ASGI app: score requests for no-code models here, the rest through ``fallback``."""

    def __init__(self, app: ScoringApp, fallback: ASGIApp) -> None:
        self.app = app
        self.service = app.service
        self.fallback = fallback
        self.limit = app.settings.max_body_bytes
        self._routes: dict[str, ServedModel] | None = None

    def _table(self) -> dict[str, ServedModel] | None:
        """Path -> model, as ``InferenceService.resolve`` would answer it; None until every model is loaded."""
        if self._routes is None and self.service.ready:
            routes: dict[str, ServedModel] = {}
            names = {m.name for m in self.service.models}
            for model in reversed(self.service.models):  # the first served version of a name wins, as in resolve
                if isinstance(model.runtime, ScriptRuntime):
                    continue
                routes[f"/models/{model.name}/score"] = model
                routes[f"/models/{model.name}/versions/{model.version}/score"] = model
                if len(names) == 1:
                    routes["/score"] = model
            self._routes = routes
        return self._routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            routes = self._routes if self._routes is not None else self._table()
            model = routes.get(scope["path"]) if routes is not None else None
            if model is not None and model.runtime.ready:  # else Starlette's route answers (503 when unloaded)
                await self._score(model, scope, receive, send)
                return
        await self.fallback(scope, receive, send)

    async def _score(self, model: ServedModel, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        token = self.app.begin()
        try:
            status, payload, headers = await self._reply(model, scope, receive, started)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            self.app.record("score", "POST", scope["path"], status, started)
        finally:
            self.app.end(token)

    async def _reply(
        self, model: ServedModel, scope: Scope, receive: Receive, started: float
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """(status, body, headers) of the answer to one score request."""
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        id_headers: list[tuple[str, str]] = []
        try:
            request_id, id_headers = request_ids(headers.get)
            context.request_id.set(request_id)
            context.model_name.set(model.name)
            context.model_version.set(model.version)
            body = await self._body(headers.get("content-length"), receive)
            reply = await score_payload(self.service, model, body)
            status, payload = reply.status, reply.body
            elapsed_ms = f"{(time.perf_counter() - started) * 1000:.3f}"
            extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in [*reply.headers, (EXEC_MS, elapsed_ms)]]
            response_headers = [(b"content-type", reply.media_type.encode("latin-1")), *extra]
        except Exception as exc:  # every failure becomes the one JSON error shape
            response = error_response(exc)
            status, payload = response.status_code, bytes(response.body)
            response_headers = [(k, v) for k, v in response.raw_headers if k != b"content-length"]
        response_headers.append((b"content-length", str(len(payload)).encode("latin-1")))
        response_headers.extend((key.encode("latin-1"), value.encode("latin-1")) for key, value in id_headers)
        return status, payload, response_headers

    async def _body(self, length: str | None, receive: Receive) -> bytes:
        """The request body, refused with 413 past the limit: before reading when the size is given, else as soon as
        the chunks read add up to more (``body.read_body`` for Starlette's requests; this reads ASGI messages)."""
        limit = self.limit
        check_declared(length, limit)
        message = await receive()
        body: bytes = message.get("body", b"")
        size = len(body)
        if not message.get("more_body", False):  # the usual case: the whole body in one message
            if size > limit:
                raise over_limit(limit)
            return body
        chunks = [body]
        while message.get("more_body", False):
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise over_limit(limit)
            chunks.append(chunk)
        return b"".join(chunks)
