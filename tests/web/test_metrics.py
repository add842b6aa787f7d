"""``GET /metrics``: Prometheus text with requests by model, version, route and status, a latency histogram, the
requests in progress, model load times and readiness."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from modelport import Workspace
from modelport.serving import InferenceService, ServingSettings
from modelport.serving.metrics import BUCKETS
from modelport.web import create_scoring_app
from tests.serving.helpers import register_script
from tests.web.helpers import serve

WAITING = """
    import os
    import time


    def init():
        pass


    def run(raw):  # busy until the test opens the gate (or 10 s)
        deadline = time.monotonic() + 10
        while not os.path.exists(GATE) and time.monotonic() < deadline:
            time.sleep(0.01)
        return "done"
"""


def samples(text: str) -> list[Sample]:
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def value(found: list[Sample], name: str, **labels: str) -> float:
    (match,) = [s for s in found if s.name == name and s.labels == labels]
    return float(match.value)


@pytest.fixture(scope="module")
def models(ws: Workspace, scripts: Path, classifier: Any, rows: np.ndarray) -> Workspace:
    ws.models.register("clf", obj=classifier, sample_input={"data": rows[:1].tolist()})
    register_script(ws, "waiting", scripts, WAITING.replace("GATE", repr(str(scripts / "gate"))))
    return ws


def test_scoring_is_counted_and_timed(models: Workspace, rows: np.ndarray) -> None:
    with serve(models, ["clf"]) as client:
        for start in range(3):
            assert client.post("/score", json={"data": rows[start : start + 2].tolist()}).status_code == 200
        assert client.post("/score", json={"data": [[1.0]]}).status_code == 400
        assert client.get("/").status_code == 200
        assert client.get("/wp-admin").status_code == 404
        response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    score = {"model": "clf", "version": "1", "route": "score"}
    assert value(found, "modelport_requests_total", **score, status="200") == 3
    assert value(found, "modelport_requests_total", **score, status="400") == 1
    assert value(found, "modelport_requests_total", model="", version="", route="root", status="200") == 1
    assert value(found, "modelport_requests_total", model="", version="", route="unmatched", status="404") == 1
    assert value(found, "modelport_request_duration_seconds_count", model="clf", route="score") == 4
    assert value(found, "modelport_request_duration_seconds_sum", model="clf", route="score") > 0
    buckets = [s for s in found if s.name == "modelport_request_duration_seconds_bucket" and s.labels["model"] == "clf"]
    assert [float(s.labels["le"]) for s in buckets] == [*BUCKETS, float("inf")]
    counts = [s.value for s in buckets]
    assert counts == sorted(counts) and counts[-1] == 4  # cumulative, every request in +Inf
    assert value(found, "modelport_requests_in_progress") == 0
    assert 0 < value(found, "modelport_model_load_seconds", model="clf", version="1") < 60
    assert value(found, "modelport_ready") == 1


def test_a_request_in_flight_is_in_progress(models: Workspace, scripts: Path) -> None:
    service = InferenceService(models, ["waiting"], ServingSettings())
    service.load()

    async def in_progress(client: httpx.AsyncClient) -> float:
        return value(samples((await client.get("/metrics")).text), "modelport_requests_in_progress")

    async def measure() -> tuple[float, float, int]:
        transport = httpx.ASGITransport(app=create_scoring_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            before = await in_progress(client)
            scoring = asyncio.create_task(client.post("/score", content=b"{}"))
            for _ in range(500):  # until the request is being handled
                await asyncio.sleep(0.01)
                if (during := await in_progress(client)) > before:
                    break
            (scripts / "gate").touch()
            status = (await scoring).status_code
            return during, await in_progress(client), status

    try:
        during, after, status = asyncio.run(measure())
    finally:
        service.close()
    assert (during, after, status) == (1, 0, 200)


def test_each_app_counts_on_its_own(models: Workspace) -> None:
    with serve(models, ["clf"]) as first, serve(models, ["clf"]) as second:
        first.get("/")
        found = samples(second.get("/metrics").text)

    assert not [s for s in found if s.name == "modelport_requests_total"]
