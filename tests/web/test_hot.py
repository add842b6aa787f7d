"""The hot path: score requests for no-code models answered in plain ASGI, with the routes, limits and headers of the
Starlette routes; everything else still routed by Starlette."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelport import Workspace
from modelport.serving import InferenceService, ServingSettings
from modelport.serving.context import RequestIds
from modelport.web import create_scoring_app
from modelport.web.hot import HotPath
from tests.serving.helpers import register_script
from tests.web.helpers import error_of, serve

ECHO = """
    def init():
        pass


    def run(raw):
        return {"echo": raw}
"""


@pytest.fixture(scope="module")
def models(ws: Workspace, scripts: Path, classifier: Any, rows: np.ndarray) -> Workspace:
    ws.models.register("clf", obj=classifier, sample_input={"data": rows[:1].tolist()})
    ws.models.register("clf", obj=classifier, runtime_options={"method": "predict_proba"})
    register_script(ws, "echo", scripts, ECHO)
    return ws


def _call(app: Any, path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes, int]:
    """Drive ``app`` with a POST whose body arrives in ``chunks``; (status, body, chunks read)."""
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": headers, "query_string": b""}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], sent[1]["body"], read


def test_every_score_route_of_a_no_code_model_takes_the_hot_path(models: Workspace, rows: np.ndarray) -> None:
    service = InferenceService(models, ["clf:1", "clf:2", "echo"], ServingSettings())
    service.load()
    try:
        app = create_scoring_app(service)
        assert isinstance(app, HotPath)
        body = b'{"data": [' + ",".join(str(v) for v in rows[0]).encode() + b"]}"
        status, first, _ = _call(app, "/models/clf/score", [body], [])
        assert status == 200 and json.loads(first) in ([0], [1])
        status, second, _ = _call(app, "/models/clf/versions/2/score", [body], [])
        assert status == 200 and np.asarray(json.loads(second)).shape == (1, 2)  # predict_proba
        assert app._routes is not None
        assert sorted(app._routes) == [
            "/models/clf/score",
            "/models/clf/versions/1/score",
            "/models/clf/versions/2/score",
        ]  # several names: no /score; the script model is routed by Starlette
        assert app._routes["/models/clf/score"].version == 1  # the first served version, as resolve() answers
    finally:
        service.close()


def test_a_chunked_body_over_the_limit_is_refused_before_it_is_all_read(models: Workspace) -> None:
    service = InferenceService(models, ["clf:1"], ServingSettings(max_body_bytes=100))
    service.load()
    try:
        app = create_scoring_app(service)
        chunks = [b'{"data": [' + b"0.5," * 10] * 10 + [b"0.5]}"]
        status, body, read = _call(app, "/score", chunks, [(b"x-request-id", b"big-1")])
    finally:
        service.close()
    assert status == 413
    assert b"over the limit of 100 bytes" in body
    assert read == 3  # 40 + 40 + 40 bytes: refused at the third chunk, not after the eleventh


def test_answers_and_headers_match_the_starlette_routes(models: Workspace, rows: np.ndarray) -> None:
    with serve(models, ["clf:1"]) as client:
        hot = client.post("/score", json={"data": rows[:3].tolist()}, headers={"x-ms-client-request-id": "c-1"})
        assert hot.status_code == 200
        assert hot.headers["content-type"] == "application/json"
        assert hot.headers["x-ms-client-request-id"] == "c-1"
        assert hot.headers["x-ms-request-id"] == "c-1"
        assert uuid.UUID(hot.headers["x-request-id"]).version == 4
        assert float(hot.headers["x-ms-run-fn-exec-ms"]) >= 0
        assert int(hot.headers["content-length"]) == len(hot.content)
        assert error_of(client.post("/score", content=b"{"), 400).startswith("the request body is not valid JSON")
        assert error_of(client.post("/score", content=b" "), 400).startswith("the request body is empty")
        # GET and OPTIONS are not the hot path's: Starlette answers them as before
        assert client.options("/score").headers["allow"] == "POST, OPTIONS"


def test_before_the_models_are_loaded_requests_go_to_starlette(models: Workspace) -> None:
    service = InferenceService(models, ["clf:1"], ServingSettings())
    try:
        app = create_scoring_app(service, load_on_startup=True)  # not started: nothing loads
        status, body, _ = _call(app, "/score", [b'{"data": [[0.1, 0.2, 0.3]]}'], [])
        assert status == 503
        assert json.loads(body)["message"] == "the models are still loading; retry shortly"
        assert isinstance(app, HotPath) and app._routes is None
        service.load()
        status, body, _ = _call(app, "/score", [b'{"data": [[0.1, 0.2, 0.3]]}'], [])
        assert status == 200 and app._routes is not None
    finally:
        service.close()


def test_request_ids_are_uuid4_shaped_distinct_and_new_in_each_forked_worker() -> None:
    ids = RequestIds()
    made = [ids() for _ in range(1000)]
    assert len(set(made)) == 1000
    assert {uuid.UUID(i).version for i in made} == {4}
    assert {uuid.UUID(i).variant for i in made} == {uuid.RFC_4122}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, ids().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert child[:16] != made[0][:16]  # the child drew bits of its own
    assert uuid.UUID(child).version == 4


def test_a_model_unloaded_at_shutdown_is_answered_by_starlette_with_a_503(models: Workspace) -> None:
    service = InferenceService(models, ["clf:1"], ServingSettings())
    service.load()
    app = create_scoring_app(service)
    assert _call(app, "/score", [b'{"data": [[0.1, 0.2, 0.3]]}'], [])[0] == 200
    service.close()  # what a stopping server does once in-flight requests are done
    status, body, _ = _call(app, "/score", [b'{"data": [[0.1, 0.2, 0.3]]}'], [])
    assert status == 503
    assert json.loads(body)["code"] == "unavailable"


def test_a_cancelled_request_is_no_longer_counted_in_progress(models: Workspace) -> None:
    service = InferenceService(models, ["clf:1"], ServingSettings())
    service.load()
    try:
        app = create_scoring_app(service)

        async def receive() -> dict[str, Any]:
            raise asyncio.CancelledError  # the server gave up on the request while its body was read

        async def send(message: dict[str, Any]) -> None:
            raise AssertionError("nothing is sent for a cancelled request")

        scope = {"type": "http", "method": "POST", "path": "/score", "headers": [], "query_string": b""}
        with pytest.raises(asyncio.CancelledError):
            asyncio.run(app(scope, receive, send))
        assert service.metrics.in_progress._value.get() == 0
    finally:
        service.close()
