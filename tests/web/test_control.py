"""The control-plane API in-process: keys guard every route but /health; a published pipeline started over REST
(Azure ML style) is queued at once, executed by the batch worker, and its outputs can be listed and downloaded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from modelport import Workspace
from modelport.batch.worker import BatchWorker
from modelport.registry.keys import ApiKeyRegistry
from modelport.settings import ControlSettings
from modelport.web.control import create_control_app
from tests.batch.hello import register_hello


@pytest.fixture
def served(sqlite_workspace: Workspace, tmp_path: Path) -> Iterator[tuple[TestClient, str, BatchWorker]]:
    register_hello(sqlite_workspace, tmp_path / "hello")
    worker = BatchWorker(sqlite_workspace, poll_s=0.2, schedules=False).start()
    app = create_control_app(sqlite_workspace, ControlSettings(), on_queued=worker.wake)
    secret = ApiKeyRegistry(sqlite_workspace.engine).create("ci").secret
    with TestClient(app) as client:
        yield client, secret, worker
    worker.stop(grace_s=30)


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _wait_finished(client: TestClient, secret: str, run_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run: dict[str, Any] = client.get(f"/runs/{run_id}", headers=_auth(secret)).json()
        if run["status"] in ("completed", "failed", "canceled") or time.monotonic() > deadline:
            return run
        time.sleep(0.1)


def test_health_needs_no_key(served: tuple[TestClient, str, BatchWorker]) -> None:
    client, _, _ = served
    assert client.get("/health").json() == {"status": "ok"}


@pytest.mark.parametrize("header", [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer mpk_wrong-wrong-wrong-wrong"])
def test_a_missing_or_wrong_key_is_401(served: tuple[TestClient, str, BatchWorker], header: str | None) -> None:
    client, _, _ = served
    headers = {} if header is None else {"Authorization": header}
    for method, path in [("GET", "/pipelines"), ("POST", "/pipelines/hello/runs"), ("GET", "/runs/abcd")]:
        response = client.request(method, path, headers=headers, json={})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["code"] == "unauthorized" and "Bearer" in response.json()["message"]


def test_a_revoked_key_is_401(served: tuple[TestClient, str, BatchWorker], sqlite_workspace: Workspace) -> None:
    client, secret, _ = served
    assert client.get("/pipelines", headers=_auth(secret)).status_code == 200
    ApiKeyRegistry(sqlite_workspace.engine).revoke("ci")
    assert client.get("/pipelines", headers=_auth(secret)).status_code == 401


def test_a_published_pipeline_runs_over_rest(served: tuple[TestClient, str, BatchWorker]) -> None:
    client, secret, _ = served
    body = {"ExperimentName": "nightly", "ParameterAssignments": {"who": "rest"}}

    response = client.post("/pipelines/hello/runs", headers=_auth(secret), json=body)

    assert response.status_code == 202
    run_id = response.json()["Id"]
    assert response.headers["location"] == f"/runs/{run_id}"
    run = _wait_finished(client, secret, run_id)
    assert (run["status"], run["experiment"], run["parameters"]) == ("completed", "nightly", {"who": "rest"})
    assert run["trigger"] == "rest:ci" and [t["status"] for t in run["tasks"]] == ["completed"]
    outputs = client.get(f"/runs/{run_id}/outputs", headers=_auth(secret)).json()
    files = {f["path"]: f["size"] for f in outputs["files"]}
    assert files["outputs/write/greeting.txt"] == len("hello rest\n")
    download = client.get(f"/runs/{run_id}/outputs/outputs/write/greeting.txt", headers=_auth(secret))
    assert download.status_code == 200 and download.text == "hello rest\n"


def test_what_azure_ml_clients_also_send_is_accepted(served: tuple[TestClient, str, BatchWorker]) -> None:
    """The body the Azure ML SDK and Data Factory's AzureMLExecutePipeline activity send, as they send it."""
    client, secret, _ = served
    body = {
        "ExperimentName": "adf",
        "RunSource": "SDK",
        "ParameterAssignments": {"who": "adf"},
        "ParentRunId": "",
        "ContinueOnStepFailure": False,
        "DataPathAssignments": {},
    }
    response = client.post("/pipelines/hello/runs", headers=_auth(secret), json=body)
    assert response.status_code == 202
    run = _wait_finished(client, secret, response.json()["Id"])
    assert (run["status"], run["experiment"], run["parameters"]) == ("completed", "adf", {"who": "adf"})


def test_published_pipelines_are_listed(served: tuple[TestClient, str, BatchWorker]) -> None:
    client, secret, _ = served
    (listed,) = client.get("/pipelines", headers=_auth(secret)).json()
    assert (listed["name"], listed["version"], listed["parameters"]) == ("hello", 1, {"who": {"default": "world"}})


def test_an_unpublished_or_unknown_pipeline_is_404(
    served: tuple[TestClient, str, BatchWorker], sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    client, secret, _ = served
    (tmp_path / "draft").mkdir()
    (tmp_path / "draft" / "pipeline.yaml").write_text(
        (tmp_path / "hello" / "pipeline.yaml").read_text().replace("name: hello", "name: draft")
    )
    (tmp_path / "draft" / "write.py").write_text((tmp_path / "hello" / "write.py").read_text())
    from modelport.batch import PipelineRegistry

    PipelineRegistry(sqlite_workspace).register(tmp_path / "draft" / "pipeline.yaml")

    for name in ("draft", "nope"):
        response = client.post(f"/pipelines/{name}/runs", headers=_auth(secret), json={"ExperimentName": "x"})
        assert response.status_code == 404
    assert "published" in client.post("/pipelines/draft/runs", headers=_auth(secret), json={}).json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        {"ParameterAssignment": {}},
        {"ParameterAssignments": {"nope": 1}},
        {"ParameterAssignments": "who=x"},
        {"Version": "two"},
        {"Version": True},
        {"DataPathAssignments": {"input": {"DataStoreName": "workspaceblobstore", "RelativePath": "sensors/"}}},
    ],
)
def test_bad_run_requests_are_400(served: tuple[TestClient, str, BatchWorker], body: Any) -> None:
    client, secret, _ = served
    response = client.post("/pipelines/hello/runs", headers=_auth(secret), json=body)
    assert response.status_code == 400 and response.json()["code"] == "invalid_input"


def test_a_version_can_be_named(served: tuple[TestClient, str, BatchWorker]) -> None:
    client, secret, _ = served
    assert client.post("/pipelines/hello/runs", headers=_auth(secret), json={"Version": 1}).status_code == 202
    assert client.post("/pipelines/hello/runs", headers=_auth(secret), json={"Version": "9"}).status_code == 404


@pytest.mark.parametrize("path", ["../../../etc/passwd", "outputs/../../x", "%2e%2e/secret", "outputs/nope.txt"])
def test_output_paths_cannot_leave_the_run(served: tuple[TestClient, str, BatchWorker], path: str) -> None:
    client, secret, _ = served
    run_id = client.post("/pipelines/hello/runs", headers=_auth(secret), json={}).json()["Id"]

    response = client.get(f"/runs/{run_id}/outputs/{path}", headers=_auth(secret))

    assert response.status_code in (400, 404) and response.json()["code"] in ("invalid_input", "not_found")


def test_an_unknown_run_or_route_is_404_in_the_error_shape(served: tuple[TestClient, str, BatchWorker]) -> None:
    client, secret, _ = served
    assert client.get("/runs/0123456789abcdef", headers=_auth(secret)).json()["code"] == "not_found"
    response = client.get("/nowhere", headers=_auth(secret))
    assert response.status_code == 404 and set(response.json()) == {"error", "message", "code"}


def test_outputs_written_outside_the_run_folder_are_listed_and_served(
    served: tuple[TestClient, str, BatchWorker], sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    """A score step with ``output.url`` writes under that URL, not the run's folder: the listing still has its
    files, as ``external/STEP/NAME``, and each downloads."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from modelport.batch import PipelineRegistry

    client, secret, _ = served
    x = np.random.default_rng(1).random((30, 2))
    sqlite_workspace.models.register("clf", obj=LogisticRegression().fit(x, (x[:, 0] > 0.5).astype(int)))
    data = tmp_path / "rows.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1]}).to_csv(data, index=False)
    shared = tmp_path / "shared"
    (tmp_path / "score.yaml").write_text(
        "name: scored\nsteps:\n  - name: score\n    type: score\n    model: clf\n"
        f"    input: {data}\n    features: [a, b]\n    output:\n      name: predictions.csv\n      url: {shared}\n"
    )
    pipelines = PipelineRegistry(sqlite_workspace)
    pipelines.publish(pipelines.register(tmp_path / "score.yaml").ref)

    run_id = client.post("/pipelines/scored/runs", headers=_auth(secret), json={}).json()["Id"]
    assert _wait_finished(client, secret, run_id)["status"] == "completed"

    listed = client.get(f"/runs/{run_id}/outputs", headers=_auth(secret)).json()["files"]
    (external,) = [f for f in listed if f["path"].startswith("external/")]
    written = shared / run_id / "score" / "predictions.csv"
    assert external == {"path": "external/score/predictions.csv", "size": written.stat().st_size, "url": str(written)}
    download = client.get(f"/runs/{run_id}/outputs/external/score/predictions.csv", headers=_auth(secret))
    assert download.status_code == 200 and download.content == written.read_bytes()
    missing = client.get(f"/runs/{run_id}/outputs/external/score/nope.csv", headers=_auth(secret))
    assert missing.status_code == 404
