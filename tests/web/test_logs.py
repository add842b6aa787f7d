"""Each request leaves one structured access log line, and what a scoring script prints becomes log lines that
carry the request id and model of the request it was printed for."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from modelport import Workspace
from modelport.serving.logs import JSONFormatter, LoggingStream
from tests.serving.helpers import register_script
from tests.web.helpers import serve

PRINTER = """
    import json


    def init():
        print("init done")


    def run(raw):
        rows = json.loads(raw)["data"]
        print(f"scoring {len(rows)} rows with Authorization: Bearer abc123")
        return len(rows)
"""


class Lines(logging.Handler):
    """Formats each record as it is logged (so the request's context is there) and keeps the JSON lines."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JSONFormatter())
        self.entries: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.entries.append(json.loads(self.format(record)))


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    loggers = [logging.getLogger("modelport.access"), logging.getLogger("modelport.script")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield handler
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture(scope="module")
def client(ws: Workspace, scripts: Path) -> Iterator[TestClient]:
    register_script(ws, "printer", scripts, PRINTER)
    with serve(ws, ["printer"]) as served:
        yield served


def test_one_access_line_per_request(client: TestClient, lines: Lines) -> None:
    response = client.post("/score", json={"data": [1, 2, 3]}, headers={"x-request-id": "req-access"})

    assert response.json() == 3
    (entry,) = [e for e in lines.entries if e["logger"] == "modelport.access"]
    assert entry["message"] == "POST /score 200"
    assert entry["request_id"] == "req-access"
    assert (entry["model"], entry["version"]) == ("printer", 1)
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/score", 200)
    assert entry["duration_ms"] > 0
    assert entry["level"] == "INFO"


def test_a_failed_request_is_logged_with_its_status(client: TestClient, lines: Lines) -> None:
    client.get("/nowhere", headers={"x-request-id": "req-404"})
    client.delete("/score", headers={"x-request-id": "req-405"})
    client.post("/score", content=b"\xff", headers={"x-request-id": "req-400"})

    statuses = {e.get("request_id"): e["status"] for e in lines.entries if e["logger"] == "modelport.access"}
    assert statuses == {"req-404": 404, "req-405": 405, "req-400": 400}


def test_what_a_script_prints_carries_the_request(
    client: TestClient, lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", LoggingStream(logging.getLogger("modelport.script")))

    client.post("/score", json={"data": [1, 2]}, headers={"x-request-id": "req-print"})

    (entry,) = [e for e in lines.entries if e["logger"] == "modelport.script"]
    assert entry["message"] == "scoring 2 rows with Authorization: ***"  # and no token
    assert entry["request_id"] == "req-print"
    assert (entry["model"], entry["version"]) == ("printer", 1)
