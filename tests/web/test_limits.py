"""Limits: the body size, the time a prediction may take, and the number of requests that may wait for a model."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from starlette.testclient import TestClient

from modelport import Workspace
from modelport.serving import InferenceService, ServingSettings
from modelport.web import create_scoring_app
from tests.serving.helpers import register_script
from tests.web.helpers import error_of, serve

SLEEPY = """
    import json
    import time


    def init():
        pass


    def run(raw):
        seconds = json.loads(raw)["sleep"]
        time.sleep(seconds)
        return {"slept": seconds}
"""


def client_of(app: Any) -> httpx.AsyncClient:
    """An async client of ``app`` (in-process, no lifespan): for requests that must be in flight together."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture(scope="module")
def models(ws: Workspace, scripts: Path, classifier: Any, rows: np.ndarray) -> Workspace:
    register_script(ws, "sleepy", scripts, SLEEPY)
    ws.models.register("clf", obj=classifier, sample_input={"data": rows[:1].tolist()})
    return ws


@pytest.fixture(scope="module")
def small(models: Workspace) -> Iterator[TestClient]:
    """Bodies of at most 64 bytes; predictions of at most 0.2 s."""
    with serve(models, ["clf", "sleepy"], max_body_bytes=64, scoring_timeout_s=0.2) as client:
        yield client


@pytest.mark.parametrize("path", ["/models/clf/score", "/models/sleepy/score", "/v2/models/clf/infer"])
def test_a_body_over_the_limit_is_a_413(small: TestClient, path: str) -> None:
    response = small.post(path, content=b"[" + b"0.5," * 20 + b"0.5]", headers={"content-type": "application/json"})

    assert error_of(response, 413) == "the request body is 85 bytes; the limit is 64"


def test_a_body_at_the_limit_is_read(small: TestClient) -> None:
    body = b'{"data": [[0.1, 0.2, 0.3]]}'.ljust(64)

    assert small.post("/models/clf/score", content=body).status_code == 200


def test_a_streamed_body_over_the_limit_is_a_413(models: Workspace) -> None:
    service = InferenceService(models, ["clf"], ServingSettings(max_body_bytes=64))
    service.load()

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"[0.1, 0.2, 0.3],"

    async def post() -> httpx.Response:
        async with client_of(create_scoring_app(service)) as client:
            return await client.post("/score", content=chunks())  # no content-length: chunked

    try:
        response = asyncio.run(post())
    finally:
        service.close()
    assert error_of(response, 413) == "the request body is over the limit of 64 bytes"


def test_a_slow_prediction_times_out_and_the_server_goes_on(small: TestClient) -> None:
    response = small.post("/models/sleepy/score", json={"sleep": 0.6})

    message = error_of(response, 504)
    assert message == "scoring sleepy:1 took longer than 0.2 s"
    assert response.json()["code"] == "timeout"
    following = small.post("/models/sleepy/score", json={"sleep": 0})
    assert following.status_code == 200
    assert following.json() == {"slept": 0}


def test_requests_past_max_waiting_are_refused_with_retry_after(models: Workspace) -> None:
    service = InferenceService(models, ["sleepy"], ServingSettings(max_waiting=1))
    service.load()

    async def burst() -> list[httpx.Response]:
        async with client_of(create_scoring_app(service)) as client:
            first = await asyncio.gather(*(client.post("/score", json={"sleep": 0.3}) for _ in range(2)))
            after = await client.post("/score", json={"sleep": 0})
            return [*first, after]

    try:
        first, second, after = asyncio.run(burst())
    finally:
        service.close()
    statuses = sorted([first.status_code, second.status_code])
    refused = first if first.status_code == 503 else second
    assert statuses == [200, 503]
    assert error_of(refused, 503) == "the server is busy: 1 requests are already waiting; retry shortly"
    assert refused.headers["retry-after"] == "1"
    assert after.status_code == 200  # the slot is free again


RAW_FILES = """
    from azureml.contrib.services.aml_request import rawhttp


    def init():
        pass


    @rawhttp
    def run(request):
        return {name: f.read().decode() for name, f in request.files.items()}
"""


def test_chunked_bodies_to_starlette_routes_are_counted_as_they_arrive(
    models: Workspace, scripts: Path, rows: np.ndarray
) -> None:
    """V2 infer and script routes (routed by Starlette, not the hot path) refuse a chunked body once it passes the
    limit, without reading the rest; one within the limit, multipart included, is read as before."""
    register_script(models, "files", scripts, RAW_FILES)
    service = InferenceService(models, ["clf", "sleepy", "files"], ServingSettings(max_body_bytes=300))
    service.load()
    sent = 0

    async def chunks(body: bytes, size: int = 40) -> AsyncIterator[bytes]:
        nonlocal sent
        for start in range(0, len(body), size):
            sent += 1
            yield body[start : start + size]

    infer = {"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP64", "data": rows[0].tolist()}]}
    small = json.dumps(infer).encode()
    large = json.dumps({**infer, "padding": "x" * 2000}).encode()
    boundary = "modelport-test"
    form = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="note"; filename="n.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    ).encode()

    async def post(path: str, body: bytes, content_type: str = "application/json") -> httpx.Response:
        async with client_of(create_scoring_app(service)) as client:
            return await client.post(path, content=chunks(body), headers={"content-type": content_type})

    try:
        assert asyncio.run(post("/v2/models/clf/infer", small)).status_code == 200
        sent = 0
        refused = asyncio.run(post("/v2/models/clf/infer", large))
        assert error_of(refused, 413) == "the request body is over the limit of 300 bytes"
        assert sent < len(large) // 40  # it stopped reading
        assert error_of(asyncio.run(post("/models/sleepy/score", large)), 413).startswith("the request body is over")
        uploaded = asyncio.run(post("/models/files/score", form, f"multipart/form-data; boundary={boundary}"))
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.json() == {"note": "hello"}
    finally:
        service.close()
