"""The request being handled, in context variables: the request id and the model, so that every log line written
while handling it (the scoring script's prints included) carries them."""

from __future__ import annotations

import itertools
import os
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("modelport_request_id", default=None)
model_name: ContextVar[str | None] = ContextVar("modelport_model_name", default=None)
model_version: ContextVar[int | None] = ContextVar("modelport_model_version", default=None)


class RequestIds:
    """Request ids shaped like UUID4s (32 hex digits, version 4, RFC 4122 variant) made cheaply: 60 random bits
    drawn once per process, then a counter. ``uuid4()`` reads the system's random source on every call, which was a
    tenth of the hot path's time; these stay unique across workers, since each forked worker draws its own bits."""

    def __init__(self) -> None:
        self._reseed()
        os.register_at_fork(after_in_child=self._reseed)

    def _reseed(self) -> None:
        bits = int.from_bytes(os.urandom(8)) & ~(0xF << 12) | (0x4 << 12)  # hex digit 13 is the version
        self._prefix = f"{bits:016x}"
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{(0x8 << 60) | next(self._counter):016x}"  # the variant's bits lead the counter


new_request_id = RequestIds()
