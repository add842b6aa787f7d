"""Reading request bodies within the configured limit."""

from __future__ import annotations

from starlette.requests import Request

from ..errors import TooLargeError


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past ``limit`` bytes (checked before reading when the size is given)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise TooLargeError(f"the request body is {int(length)} bytes; the limit is {limit}")
    body = await request.body()
    if len(body) > limit:
        raise TooLargeError(f"the request body is over the limit of {limit} bytes")
    return body
