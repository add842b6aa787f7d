"""The HTTP endpoint of ``modelport ingest``.

- ``POST /readings``: one reading (a JSON object) or a list of them. A list is answered ``200`` with
  ``{"accepted": n, "duplicates": n, "rejected": [{"index": i, "reason": ..., "detail": ...}]}``; a body that is
  wholly bad (not JSON, an empty list, one bad reading) ``400`` in the project's error shape, with ``rejected`` too.
  The answer comes once the readings are in the fsynced log (or set aside): a ``200`` is an acknowledgement.
- ``GET /health``: ``{"status": "ok", ...counts}``.

With a key registry (``modelport keys``), ``POST /readings`` needs ``Authorization: Bearer KEY`` (401 otherwise),
and the readings it takes are attributed to the key's name.
"""

from __future__ import annotations

import threading
import time

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from ..batch.ingest import Ingester
from ..codecs.json import dumps
from ..errors import InvalidInputError, ModelportError, UnavailableError
from ..registry.keys import ApiKeyRegistry
from .auth import BearerAuth
from .body import read_body
from .errors import error_response
from .server import bind


def _json(body: object, status: int = 200) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")


def create_ingest_app(ingester: Ingester, max_body_bytes: int, keys: ApiKeyRegistry | None = None) -> ASGIApp:
    """The app; with ``keys``, ``POST /readings`` needs ``Authorization: Bearer KEY`` (``/health`` never does)."""

    async def readings(request: Request) -> Response:
        try:
            body = await read_body(request, max_body_bytes)
            key = request.scope.get("state", {}).get("api_key")
            client = f"key:{key.name}" if key is not None else request.client.host if request.client else "unknown"
            outcome = await run_in_threadpool(ingester.submit, body, f"http:{client}")  # fsync: off the loop
        except ModelportError as exc:
            return error_response(exc)
        except OSError as exc:  # the log could not be written: nothing is acknowledged
            return error_response(UnavailableError(f"the readings could not be stored: {exc.strerror or exc}"))
        if outcome.wholly_bad:
            first = outcome.rejected[0]  # the error shape of every route, and why, per reading
            message = f"{first.reason}: {first.detail}"
            error = {"error": message, "message": message, "code": InvalidInputError.code}
            return _json({**error, "rejected": outcome.to_json()["rejected"]}, 400)
        return _json(outcome.to_json())

    async def health(request: Request) -> Response:
        return _json({"status": "ok", **ingester.snapshot()})

    app = Starlette(
        routes=[Route("/readings", readings, methods=["POST"]), Route("/health", health, methods=["GET"])],
        exception_handlers={Exception: lambda request, exc: error_response(exc)},
    )
    return app if keys is None else BearerAuth(app, keys, open_paths={"/health"})


class IngestServer:
    """The endpoint on a socket, served from a background thread (the CLI's main thread waits for signals)."""

    def __init__(
        self, ingester: Ingester, host: str, port: int, max_body_bytes: int, keys: ApiKeyRegistry | None = None
    ) -> None:
        self.socket = bind(host, port)
        bound_host, bound_port = self.socket.getsockname()[:2]
        self.url = f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}"
        config = uvicorn.Config(
            create_ingest_app(ingester, max_body_bytes, keys), log_config=None, access_log=False, server_header=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self.socket]}, name="modelport-ingest-http", daemon=True
        )

    def start(self) -> IngestServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            raise UnavailableError("the ingest endpoint did not start")
        return self

    def stop(self) -> None:
        """Stop taking requests; the ones in flight finish first."""
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self.socket.close()
