"""The ingest endpoint in-process: one reading or a list, a summary per list, the one error shape for a body that
is wholly bad, and nothing acknowledged that is not stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from modelport.batch.ingest import Ingester, IngestSettings, Reason
from modelport.web.ingest import create_ingest_app
from tests.web.helpers import ERROR_KEYS

ONE = {"TS": "2018-08-28 23:00:05.000", "Device": 1, "Tag": 4, "Value": 84.53}


@pytest.fixture
def ingester(tmp_path: Path) -> Iterator[Ingester]:
    ingester = Ingester(IngestSettings(output=str(tmp_path / "out"), state_dir=tmp_path / "state", grace_s=0))
    yield ingester
    ingester.close()


@pytest.fixture
def client(ingester: Ingester) -> Iterator[TestClient]:
    with TestClient(create_ingest_app(ingester, max_body_bytes=10_000)) as client:
        yield client


def _bad(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS | {"rejected"} and body["code"] == "invalid_input"
    assert body["error"] == body["message"]
    return body


def test_one_reading(client: TestClient, ingester: Ingester) -> None:
    response = client.post("/readings", json=ONE)
    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert ingester.stats.accepted == 1


def test_a_list_is_answered_per_reading(client: TestClient) -> None:
    items = [ONE, {**ONE, "Value": "n/a"}, {**ONE, "Tag": 5}, {"TS": ONE["TS"]}, ONE]
    response = client.post("/readings", json=items)
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (2, 1)
    assert [(r["index"], r["reason"]) for r in body["rejected"]] == [
        (1, Reason.NON_NUMERIC_VALUE),
        (3, Reason.MISSING_FIELD),
    ]


def test_a_retried_post_is_not_counted_twice(client: TestClient, ingester: Ingester) -> None:
    client.post("/readings", json=[ONE, {**ONE, "Tag": 5}])
    assert client.post("/readings", json=[ONE, {**ONE, "Tag": 5}]).json() == {
        "accepted": 0,
        "duplicates": 2,
        "rejected": [],
    }
    assert ingester.stats.accepted == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{nope", Reason.INVALID_JSON),
        (b"[]", Reason.EMPTY),
        (b'"a reading"', Reason.NOT_A_READING),
        (b'{"TS": "2018-08-28 23:00:05", "Device": 1, "Tag": 4, "Value": "high"}', Reason.NON_NUMERIC_VALUE),
    ],
)
def test_a_wholly_bad_body_is_400_and_set_aside(
    client: TestClient, ingester: Ingester, tmp_path: Path, body: bytes, reason: str
) -> None:
    error = _bad(client.post("/readings", content=body, headers={"content-type": "application/json"}))
    assert error["message"].startswith(f"{reason}: ")
    assert [r["reason"] for r in error["rejected"]] == [reason]
    assert ingester.stats.rejected == {reason: 1}
    assert len(list((tmp_path / "state" / "rejected").glob("*.jsonl"))) == 1


def test_a_body_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/readings", json=[ONE] * 200)
    assert response.status_code == 413
    assert set(response.json()) == ERROR_KEYS


def test_nothing_is_acknowledged_that_is_not_stored(
    client: TestClient, ingester: Ingester, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(readings: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingester.state, "append", disk_full)
    response = client.post("/readings", json=ONE)
    assert response.status_code == 503
    assert "No space left on device" in response.json()["message"]
    assert ingester.stats.accepted == 0 and ingester.open_windows == 0


def test_health_counts(client: TestClient) -> None:
    client.post("/readings", json=[ONE, {**ONE, "Value": None}])
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert (body["accepted"], body["rejected"], body["open_windows"]) == (1, 1, 1)
    assert body["rejected_by_reason"] == {Reason.MISSING_FIELD: 1}
