"""Reading request bodies within the configured limit."""

from __future__ import annotations

from starlette.requests import Request

from ..errors import TooLargeError


def check_declared(length: str | None, limit: int) -> None:
    """Refuse a body whose declared ``content-length`` is over ``limit``, before reading any of it."""
    if length is not None and length.isdigit() and int(length) > limit:
        raise TooLargeError(f"the request body is {int(length)} bytes; the limit is {limit}")


def over_limit(limit: int) -> TooLargeError:
    """The error for a body found to be over ``limit`` while it is read."""
    return TooLargeError(f"the request body is over the limit of {limit} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past ``limit`` bytes: before reading when the size is given, else as soon
    as the chunks read add up to more."""
    length = request.headers.get("content-length")
    check_declared(length, limit)
    if length is not None:  # within the limit, as it says: read it whole
        body = await request.body()
        if len(body) > limit:  # it said less than it sent
            raise over_limit(limit)
        return body
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # chunked: counted as it arrives, refused once past the limit
        size += len(chunk)
        if size > limit:
            raise over_limit(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # as Request.body() keeps it, so that request.form() can still read it
    return body
