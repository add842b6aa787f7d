"""Errors to HTTP: one table from error class to status, and one JSON body shape for every error:
``{"error": <message>, "message": <message>, "code": <machine-readable code>}`` (``message`` is what Azure ML
clients read, ``error`` what Open Inference Protocol clients read). Faults are logged with their traceback and
answered with a generic 500 that echoes nothing of them."""

from __future__ import annotations

import logging

from starlette.responses import Response

from ..codecs.json import dumps
from ..errors import (
    ConflictError,
    IntegrityError,
    InvalidInputError,
    MissingDependencyError,
    ModelportError,
    NotFoundError,
    ScoringTimeoutError,
    ScriptError,
    TooLargeError,
    UnauthorizedError,
    UnavailableError,
    UnsupportedMediaTypeError,
)

logger = logging.getLogger(__name__)

# Most specific first: the first matching class decides.
STATUS: list[tuple[type[ModelportError], int]] = [
    (UnsupportedMediaTypeError, 415),
    (MissingDependencyError, 500),
    (InvalidInputError, 400),
    (NotFoundError, 404),
    (ConflictError, 409),
    (UnauthorizedError, 401),
    (TooLargeError, 413),
    (UnavailableError, 503),
    (ScoringTimeoutError, 504),
    (ScriptError, 500),
    (IntegrityError, 500),
]
SCRIPT_FAILED = "An unexpected error occurred in scoring script. Check the logs for more info."
INTERNAL = "An unexpected internal error occurred. Check the logs for more info."


def error_body(message: str, code: str) -> bytes:
    return dumps({"error": message, "message": message, "code": code})


def error_response(exc: BaseException) -> Response:
    """The response for any exception raised while handling a request."""
    if isinstance(exc, ModelportError):
        status = next((s for cls, s in STATUS if isinstance(exc, cls)), 500)
        headers = {}
        if status == 500:  # a fault on our side (or in the user's script): log it, echo nothing of it
            logger.error("%s", exc.message, exc_info=exc)
            message = SCRIPT_FAILED if isinstance(exc, ScriptError) else INTERNAL
            return _json(error_body(message, exc.code), status, {"x-ms-run-function-failed": "True"})
        if status == 401:  # says which scheme to answer with (RFC 9110)
            headers["www-authenticate"] = "Bearer"
        if isinstance(exc, UnavailableError) and exc.retry_after is not None:
            headers["retry-after"] = str(max(1, round(exc.retry_after)))
        return _json(error_body(exc.message, exc.code), status, headers)
    logger.error("unexpected error while handling a request", exc_info=exc)
    return _json(error_body(INTERNAL, "internal_error"), 500)


def _json(body: bytes, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type="application/json", headers=headers)
