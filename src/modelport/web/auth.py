"""API keys on a Starlette app: ``Authorization: Bearer KEY`` with a key of the workspace (``modelport keys``)."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import ModelportError, UnauthorizedError
from ..registry.keys import ApiKeyRegistry
from .errors import error_response


class BearerAuth:
    """Refuses every request but those to ``open_paths`` without a valid, unrevoked key (401 with
    ``WWW-Authenticate: Bearer``); the key is put in ``scope["state"]["api_key"]`` for the route."""

    def __init__(self, app: ASGIApp, keys: ApiKeyRegistry, open_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.keys = keys
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise UnauthorizedError("this API needs a key: send Authorization: Bearer KEY (modelport keys create)")
            key = await run_in_threadpool(self.keys.verify, token.strip())
        except ModelportError as exc:
            await error_response(exc)(scope, receive, send)
            return
        scope.setdefault("state", {})["api_key"] = key
        await self.app(scope, receive, send)
