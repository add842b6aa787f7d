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

    monkeypatch.setattr(ingester.state, "write", disk_full)
    response = client.post("/readings", json=ONE)
    assert response.status_code == 503
    assert "No space left on device" in response.json()["message"]
    assert ingester.stats.accepted == 0 and ingester.open_windows == 0


def test_a_failed_fsync_is_not_acknowledged_and_stops_the_ingester(
    client: TestClient, ingester: Ingester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a failed fsync the kernel may have dropped the lines, and a later fsync would not say so: the ingester
    refuses everything until it is restarted (and reads its log back as the disk has it)."""

    def io_error(position: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(ingester.state, "sync", io_error)
    assert client.post("/readings", json=ONE).status_code == 503
    monkeypatch.undo()
    again = client.post("/readings", json={**ONE, "Tag": 7})
    assert again.status_code == 503 and "restart the ingester" in again.json()["message"]


def test_health_counts(client: TestClient) -> None:
    client.post("/readings", json=[ONE, {**ONE, "Value": None}])
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert (body["accepted"], body["rejected"], body["open_windows"]) == (1, 1, 1)
    assert body["rejected_by_reason"] == {Reason.MISSING_FIELD: 1}


def test_with_keys_readings_need_one_and_health_does_not(ingester: Ingester, sqlite_workspace: Any) -> None:
    from modelport.registry.keys import ApiKeyRegistry

    keys = ApiKeyRegistry(sqlite_workspace.engine)
    secret = keys.create("plant1").secret
    with TestClient(create_ingest_app(ingester, max_body_bytes=10_000, keys=keys)) as client:
        for headers in ({}, {"Authorization": "Bearer mpk_wrong-wrong-wrong-wrong"}):
            refused = client.post("/readings", json=ONE, headers=headers)
            assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert ingester.stats.accepted == 0  # nothing refused was stored
        assert client.get("/health").status_code == 200
        taken = client.post("/readings", json=ONE, headers={"Authorization": f"Bearer {secret}"})
        assert taken.status_code == 200 and taken.json()["accepted"] == 1
        keys.revoke("plant1")
        assert client.post("/readings", json=ONE, headers={"Authorization": f"Bearer {secret}"}).status_code == 401


@pytest.mark.parametrize(
    ("host", "required", "needs"),
    [
        ("127.0.0.1", None, False),
        ("localhost", None, False),
        ("::1", None, False),
        ("0.0.0.0", None, True),
        ("10.1.2.3", None, True),
        ("0.0.0.0", False, False),
        ("127.0.0.1", True, True),
    ],
)
def test_a_key_is_needed_unless_only_this_machine_can_reach_the_endpoint(
    tmp_path: Path, host: str, required: bool | None, needs: bool
) -> None:
    settings = IngestSettings(output=str(tmp_path), http_host=host, http_require_key=required)
    assert settings.http_needs_key is needs
