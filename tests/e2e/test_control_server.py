"""End to end: ``modelport server --port 0`` in its own process; a key made with ``modelport keys create``; a
published pipeline started with plain HTTP, executed by the server, and SIGTERM letting it stop cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from modelport import Workspace
from modelport.registry.keys import ApiKeyRegistry
from tests.batch.hello import register_hello

URL_LINE = re.compile(r"listening at (http://\S+)")


def test_a_run_started_over_rest_completes_and_the_server_stops_on_sigterm(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Workspace(home) as ws:
        register_hello(ws, tmp_path / "hello")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPORT_")}
    env["MODELPORT_HOME"] = str(home)
    key = subprocess.run(
        [sys.executable, "-m", "modelport", "keys", "create", "e2e"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    process = subprocess.Popen(
        [sys.executable, "-m", "modelport", "server", "--port", "0", "--tick", "1"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert process.stderr is not None
        url = None
        for line in process.stderr:
            if match := URL_LINE.search(line):
                url = match.group(1)
                break
        assert url is not None, "the server did not say where it listens"
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/health").json() == {"status": "ok"}
            assert client.post("/pipelines/hello/runs", json={}).status_code == 401
            headers = {"Authorization": f"Bearer {key}"}
            answer = client.post(
                "/pipelines/hello/runs", headers=headers, json={"ExperimentName": "e2e", "ParameterAssignments": {}}
            )
            assert answer.status_code == 202
            run_id = answer.json()["Id"]
            deadline = time.monotonic() + 120
            while (status := client.get(f"/runs/{run_id}", headers=headers).json()["status"]) in ("queued", "running"):
                assert time.monotonic() < deadline, f"run {run_id} still {status}"
                time.sleep(0.2)
            assert status == "completed"
            greeting = client.get(f"/runs/{run_id}/outputs/outputs/write/greeting.txt", headers=headers)
            assert greeting.text == "hello world\n"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
    with Workspace(home) as ws:
        (listed,) = ApiKeyRegistry(ws.engine).list()
    assert listed.last_used_at is not None
