"""One JSON shape for every error: clear 4xx for bad requests, and a generic 500 for a fault, whose details go to
the log and never to the client."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from modelport import Workspace
from modelport.web.errors import SCRIPT_FAILED
from tests.serving.helpers import register_script
from tests.web.helpers import error_of, serve

FAILING = """
    def init():
        pass


    def run(raw):
        raise ValueError("the secret sauce is 42")
"""


@pytest.fixture(scope="module")
def client(ws: Workspace, scripts: Path, classifier: Any, rows: np.ndarray) -> Iterator[TestClient]:
    register_script(ws, "failing", scripts, FAILING)
    ws.models.register("clf", obj=classifier, sample_input={"data": rows[:1].tolist()})
    with serve(ws, ["failing", "clf"]) as served:
        yield served


def test_an_exception_in_run_is_a_generic_500_and_its_details_are_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="modelport"):
        response = client.post("/models/failing/score", json={"data": [1]})

    assert error_of(response, 500) == SCRIPT_FAILED
    assert response.json()["code"] == "script_error"
    assert response.headers["x-ms-run-function-failed"] == "True"
    assert "secret sauce" not in response.text
    (record,) = [r for r in caplog.records if "secret sauce" in r.getMessage()]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "run() of score.py raised ValueError: the secret sauce is 42"
    assert record.exc_info is not None  # the traceback is logged


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/nope", 404, "no route /nope; see /swagger.json"),
        ("POST", "/v2/models/clf/nothing", 404, "no route /v2/models/clf/nothing; see /swagger.json"),
        ("DELETE", "/models/clf/score", 405, "DELETE is not allowed on /models/clf/score"),
        ("PUT", "/", 405, "PUT is not allowed on /"),
        ("POST", "/v2/models/clf", 405, "POST is not allowed on /v2/models/clf"),
        ("GET", "/models/nope/score", 404, "no model named 'nope'. Did you mean 'clf', 'failing'?"),
        ("POST", "/models/clf/score", 400, 'the request body is empty: send JSON such as {"data": [[1.0, 2.0]]}'),
        ("GET", "/swagger.json?version=4", 404, "Swagger version [4] is not valid. Supported versions: [2, 3, 3.1]."),
    ],
)
def test_every_error_has_the_same_json_shape(
    client: TestClient, method: str, path: str, status: int, message: str
) -> None:
    assert error_of(client.request(method, path), status) == message


def test_error_codes_are_machine_readable(client: TestClient) -> None:
    assert client.get("/nope").json()["code"] == "not_found"
    assert client.delete("/score").json()["code"] == "method_not_allowed"
    assert client.get("/models/nope/score").json()["code"] == "model_not_found"
    assert client.post("/models/clf/score", content=b"[").json()["code"] == "invalid_input"
