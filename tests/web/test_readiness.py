"""Readiness: with the models loading in the background, the app is live at once and ready only once every model
is loaded; a model that fails to load keeps it unready, saying why."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from modelport import Workspace
from tests.serving.helpers import register_script
from tests.web.helpers import error_of, serve

SLOW_INIT = """
    import os
    import time


    def init():  # slow to load: until the test opens the gate (or 10 s)
        deadline = time.monotonic() + 10
        while not os.path.exists(GATE) and time.monotonic() < deadline:
            time.sleep(0.01)


    def run(raw):
        return "scored"
"""

BROKEN_INIT = """
    def init():
        raise RuntimeError("no weights here")


    def run(raw):
        return "never"
"""


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout} s")
        time.sleep(0.02)


def ready_gauge(client: TestClient) -> float:
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    return float(families["modelport_ready"].samples[0].value)


@pytest.fixture(scope="module")
def gate(scripts: Path) -> Path:
    """The file whose creation lets the init() of ``slow`` finish."""
    return scripts / "gate"


@pytest.fixture(scope="module")
def models(ws: Workspace, scripts: Path, gate: Path) -> Workspace:
    register_script(ws, "slow", scripts, SLOW_INIT.replace("GATE", repr(str(gate))))
    register_script(ws, "broken", scripts, BROKEN_INIT)
    return ws


def test_live_at_once_and_ready_once_loaded(models: Workspace, gate: Path) -> None:
    with serve(models, ["slow"], load=False) as client:
        assert client.get("/health/live").json() == {"status": "live"}
        assert client.get("/v2/health/live").json() == {"live": True}
        assert client.get("/").text == "Healthy"
        not_ready = client.get("/health/ready")
        assert error_of(not_ready, 503) == "the models are still loading; retry shortly"
        assert not_ready.headers["retry-after"] == "1"
        assert error_of(client.post("/score", content=b"{}"), 503) == "the models are still loading; retry shortly"
        assert client.get("/v2/health/ready").status_code == 503
        assert "error" in client.get("/v2/health/ready").json()
        assert client.get("/swagger.json").status_code == 503
        assert ready_gauge(client) == 0

        gate.touch()
        wait_for(lambda: client.get("/health/ready").status_code == 200)

        assert client.get("/health/ready").json() == {"status": "ready", "models": ["slow:1"]}
        assert client.get("/v2/health/ready").json() == {"ready": True}
        assert client.get("/v2/models/slow/ready").json() == {"name": "slow", "ready": True}
        assert client.post("/score", content=b"{}").json() == "scored"
        assert ready_gauge(client) == 1


def test_a_model_that_fails_to_load_keeps_the_app_unready(
    models: Workspace, gate: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gate.touch()
    with caplog.at_level(logging.ERROR, logger="modelport"), serve(models, ["slow", "broken"], load=False) as client:
        wait_for(lambda: "failed" in client.get("/health/ready").json()["message"])

        message = error_of(client.get("/health/ready"), 503)
        scoring = client.post("/models/slow/score", content=b"{}")
        live = client.get("/health/live")

    assert message == "model broken failed to load; the server log says why"
    assert "no weights here" not in message  # what init() raised stays in the log
    assert error_of(scoring, 503) == message
    assert live.status_code == 200
    assert any(r.getMessage() == "loading the models failed" and r.exc_info for r in caplog.records)
