"""Request ids and timing headers, as Azure ML sends them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from modelport import Workspace
from tests.web.helpers import error_of, serve


@pytest.fixture(scope="module")
def client(ws: Workspace, classifier: Any, rows: np.ndarray) -> Iterator[TestClient]:
    ws.models.register("clf", obj=classifier, sample_input={"data": rows[:1].tolist()})
    with serve(ws, ["clf"]) as served:
        yield served


def score(client: TestClient, headers: dict[str, str] | None = None) -> Any:
    return client.post("/score", json={"data": [[0.1, 0.2, 0.3]]}, headers=headers)


def test_a_request_id_is_echoed(client: TestClient) -> None:
    response = score(client, {"x-request-id": "req-42"})

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-42"
    assert response.headers["x-ms-request-id"] == "req-42"
    assert "x-ms-client-request-id" not in response.headers


def test_a_request_id_is_made_when_none_is_sent(client: TestClient) -> None:
    first, second = score(client), client.get("/")

    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert ids[0] != ids[1]


def test_a_request_id_of_100_characters_is_the_longest(client: TestClient) -> None:
    assert score(client, {"x-request-id": "r" * 100}).headers["x-request-id"] == "r" * 100

    response = score(client, {"x-request-id": "r" * 101})

    assert error_of(response, 400) == "x-request-id must not exceed 100 characters"


def test_the_client_request_id_is_echoed(client: TestClient) -> None:
    response = score(client, {"x-ms-client-request-id": "client-7", "x-request-id": "req-7"})

    assert response.headers["x-ms-client-request-id"] == "client-7"
    assert response.headers["x-ms-request-id"] == "client-7"
    assert response.headers["x-request-id"] == "req-7"


def test_the_legacy_request_id_is_echoed(client: TestClient) -> None:
    response = score(client, {"x-ms-request-id": "legacy-1"})

    assert response.headers["x-ms-request-id"] == "legacy-1"
    assert response.headers["x-ms-client-request-id"] == "legacy-1"


def test_scoring_reports_the_time_run_took(client: TestClient) -> None:
    value = score(client).headers["x-ms-run-fn-exec-ms"]

    assert re.fullmatch(r"\d+\.\d{3}", value)
    assert 0 < float(value) < 10_000


def test_errors_carry_the_request_id(client: TestClient) -> None:
    response = client.post("/score", content=b"{", headers={"x-request-id": "bad-1"})

    assert response.status_code == 400
    assert response.headers["x-request-id"] == "bad-1"


@pytest.mark.parametrize(("method", "path"), [("GET", "/nowhere"), ("DELETE", "/score")])
def test_unmatched_routes_carry_the_request_id_too(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, headers={"x-request-id": "lost-1"})

    assert response.status_code in (404, 405)
    assert response.headers["x-request-id"] == "lost-1"
