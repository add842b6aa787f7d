"""The baselines of bench/serving.py: a bare Starlette handler that calls ``predict_proba`` on each request, and
the same handler returning a constant (the pure HTTP cost). Run by uvicorn with ``BENCH_MODEL`` naming a joblib
file, or ``BENCH_MODEL=constant``."""

from __future__ import annotations

import os
from typing import Any

import joblib
import numpy as np
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

MODEL_PATH = os.environ.get("BENCH_MODEL", "constant")
model: Any = None if MODEL_PATH == "constant" else joblib.load(MODEL_PATH)
TEXT = os.environ.get("BENCH_TEXT") == "1"


async def score(request: Request) -> Response:
    body = orjson.loads(await request.body())
    if model is None:
        return Response(b"[[0.5,0.5]]", media_type="application/json")
    data = body["data"]
    rows = data if TEXT else np.asarray(data, dtype=np.float64)
    return Response(
        orjson.dumps(model.predict_proba(rows), option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json"
    )


async def ready(request: Request) -> Response:
    return Response(b"ok")


app = Starlette(routes=[Route("/score", score, methods=["POST"]), Route("/health/ready", ready)])
