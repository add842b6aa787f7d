"""Scoring a no-code model (sklearn, ONNX, boosters) from a JSON request body."""

from __future__ import annotations

from ..codecs.json import dumps, loads
from ..errors import InvalidInputError
from .azure import Reply
from .service import InferenceService, ServedModel
from .validation import check_payload


async def score_payload(service: InferenceService, model: ServedModel, body: bytes) -> Reply:
    """Decode ``{"data": ...}`` (or the data itself), check it against the signature, predict, encode as JSON."""
    if not body.strip():
        raise InvalidInputError('the request body is empty: send JSON such as {"data": [[1.0, 2.0]]}')
    payload = loads(body, what="request body")
    check_payload(model.signature if model.record.signature else None, payload)
    result = await service.predict(model, payload, len(body))
    return Reply(200, dumps(result))
