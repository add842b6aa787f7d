"""``modelport ingest`` as a real process: it says where it listens and writes, takes readings over HTTP and MQTT,
stops on SIGTERM with a summary, survives SIGKILL mid-stream without losing or doubling a reading, and refuses bad
options in one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from modelport.cli import main
from tests.batch.ingest.helpers import expected_windows, payload, read_output, readings, sensor_slice, window_files
from tests.batch.ingest.test_mqtt import BROKER, broker, publish, publisher  # noqa: F401 (fixtures)


class Ingest:
    """One ``modelport ingest --json`` process, its ``started`` line read."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPORT_")}
        command = [sys.executable, "-m", "modelport", "ingest", "--json", "--output", str(tmp_path / "out")]
        command += ["--state", str(tmp_path / "state"), "--http", "127.0.0.1:0", *args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, self.process.communicate(timeout=30)[1]
        self.started: dict[str, Any] = json.loads(line)
        self.url = self.started["http"]

    def post(self, items: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/readings", content=payload(items), timeout=10)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.url}/health", timeout=10).json()
        return body

    def wait_until(self, key: str, at_least: int) -> None:
        deadline = time.monotonic() + 20
        while self.health()[key] < at_least:
            assert time.monotonic() < deadline, self.health()
            time.sleep(0.05)

    def stop(self) -> dict[str, Any]:
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=30)
        assert self.process.returncode == 0, err
        stopped: dict[str, Any] = json.loads(out.splitlines()[-1])
        return stopped


@pytest.fixture
def processes() -> Iterator[list[Ingest]]:
    running: list[Ingest] = []
    yield running
    for ingest in running:
        if ingest.process.poll() is None:
            ingest.process.kill()
            ingest.process.communicate()


def test_http_readings_until_sigterm(tmp_path: Path, processes: list[Ingest]) -> None:
    frame = sensor_slice(300)
    ingest = Ingest(tmp_path, "--window", "1m", "--grace", "0s")
    processes.append(ingest)
    assert ingest.started["output"] == str(tmp_path / "out") and ingest.started["listening"]
    body = ingest.post([*readings(frame), {"TS": "2018-08-28 23:00:05", "Device": 1, "Tag": 1, "Value": "x"}])
    assert body["accepted"] == len(frame) and body["rejected"][0]["reason"] == "non_numeric_value"
    stopped = ingest.stop()
    assert (stopped["accepted"], stopped["rejected"]) == (len(frame), 1)
    assert stopped["windows_written"] == len(window_files(tmp_path / "out")) > 0
    assert stopped["open_windows"] == 1  # the last minute waits in the log for the next start

    again = Ingest(tmp_path, "--window", "1m", "--grace", "0s", "--drain")
    processes.append(again)
    assert again.started["replayed"] > 0
    assert again.stop()["windows_written"] == 1
    got = read_output(tmp_path / "out")
    pd.testing.assert_frame_equal(got, expected_windows(frame), check_dtype=False, check_exact=False, rtol=1e-12)


def test_sigkill_mid_stream_through_mqtt_loses_and_doubles_nothing(
    broker: str,  # noqa: F811
    publisher: Any,  # noqa: F811
    tmp_path: Path,
    processes: list[Ingest],
) -> None:
    frame = sensor_slice(900)
    items = readings(frame)
    bodies = [payload(items[i : i + 15]) for i in range(0, len(items), 15)]
    session = f"mptest-cli-{uuid.uuid4().hex[:8]}"
    topic = f"{session}/sensors"
    options = ["--mqtt", broker, "--topic", f"{session}/#", "--client-id", session, "--grace", "20s"]

    first = Ingest(tmp_path, *options)
    processes.append(first)
    publish(publisher, topic, bodies[:30])
    first.wait_until("accepted", 30 * 15)
    first.process.kill()  # no flush, no summary: whatever was not acknowledged comes again
    first.process.communicate(timeout=30)
    publish(publisher, topic, bodies[30:])  # while it is down

    second = Ingest(tmp_path, *options, "--drain")
    processes.append(second)
    second.wait_until("accepted", len(items) - 30 * 15)
    stopped = second.stop()
    try:
        got = read_output(tmp_path / "out")
        pd.testing.assert_frame_equal(got, expected_windows(frame), check_dtype=False, check_exact=False, rtol=1e-12)
        assert len(window_files(tmp_path / "out")) == frame["TS"].str[:16].nunique()
        assert stopped["rejected"] == 0
    finally:
        subprocess.run(  # end the broker's session for this client id
            ["mosquitto_sub", "-h", BROKER[0], "-p", str(BROKER[1]), "-i", session, "-t", "x", "-E"],
            check=False,
            capture_output=True,
            timeout=10,
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "out"], "nothing to listen to: give --mqtt URL and/or --http HOST:PORT"),
        (["--http", "127.0.0.1:0"], "--output is required"),
        (["--output", "out", "--http", "nowhere"], "invalid --http 'nowhere'"),
        (["--output", "out", "--http", ":0", "--window", "7s"], "does not divide a day evenly"),
        (["--output", "out", "--http", ":0", "--window", "soon"], "'soon' is not a duration"),
        (["--output", "out", "--mqtt", "http://u:secret@host"], "invalid MQTT broker 'http://u:***@host'"),
    ],
)
def test_bad_options_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    for name in [k for k in os.environ if k.startswith("MODELPORT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    assert main(["ingest", "--state", str(tmp_path / "s"), *args]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert "secret" not in err and "Traceback" not in err


def test_require_key_guards_http_with_the_workspace_keys(tmp_path: Path, processes: list[Ingest]) -> None:
    from modelport import Workspace
    from modelport.registry.keys import ApiKeyRegistry

    with Workspace(tmp_path / ".modelport") as ws:  # the workspace of the process's folder
        secret = ApiKeyRegistry(ws.engine).create("plant1").secret
    ingest = Ingest(tmp_path, "--require-key")
    processes.append(ingest)
    assert "needs a key" in ingest.started["listening"][0]
    one = [{"TS": "2018-08-28 23:00:05", "Device": 1, "Tag": 1, "Value": 1.5}]
    assert httpx.post(f"{ingest.url}/readings", content=payload(one), timeout=10).status_code == 401
    taken = httpx.post(
        f"{ingest.url}/readings", content=payload(one), headers={"Authorization": f"Bearer {secret}"}, timeout=10
    )
    assert taken.status_code == 200 and taken.json()["accepted"] == 1
    assert ingest.stop()["accepted"] == 1
