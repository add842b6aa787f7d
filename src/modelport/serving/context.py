"""The request being handled, in context variables: the request id and the model, so that every log line written
while handling it (the scoring script's prints included) carries them."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("modelport_request_id", default=None)
model_name: ContextVar[str | None] = ContextVar("modelport_model_name", default=None)
model_version: ContextVar[int | None] = ContextVar("modelport_model_version", default=None)
