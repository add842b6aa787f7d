"""The batch commands end to end in real subprocesses: the IoT example trained, its pipeline registered and run
(waiting, and started in the background), its runs listed, shown, read, downloaded; user errors exit 1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def iot_cli(tmp_path: Path) -> Run:
    """A CLI in ``tmp_path`` holding a copy of examples/ (the pipeline reads examples/data/sensor_data.csv)."""
    shutil.copytree(ROOT / "examples" / "iot", tmp_path / "examples" / "iot")
    (tmp_path / "examples" / "data").mkdir()
    readings = pd.read_csv(ROOT / "examples" / "data" / "sensor_data.csv")
    readings.groupby(["Device", "Tag"]).head(320).to_csv(
        tmp_path / "examples" / "data" / "sensor_data.csv", index=False
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPORT_")}
    env.update(MODELPORT_HOME=str(tmp_path / "ws"), COLUMNS="200")

    def run(
        *args: str, expect: int = 0, module: bool = True, extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "modelport", *args] if module else [sys.executable, *args]
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=tmp_path, env={**env, **(extra or {})}, timeout=180
        )
        assert done.returncode == expect, f"exit {done.returncode}, expected {expect}\n{done.stdout}\n{done.stderr}"
        return done

    return run


@pytest.mark.slow
def test_the_iot_example_from_the_command_line(iot_cli: Run, tmp_path: Path) -> None:
    trained = iot_cli("examples/iot/train.py", "--json", module=False)
    assert len(json.loads(trained.stdout)["registered"]) == 15
    assert "registered pipeline iot-anomaly:1" in iot_cli("pipelines", "register", "examples/iot/pipeline.yaml").stdout
    assert "unchanged: pipeline iot-anomaly:1" in iot_cli("pipelines", "register", "examples/iot/pipeline.yaml").stdout

    waited = json.loads(
        iot_cli("pipelines", "run", "iot-anomaly", "--wait", "--param", "batch_size=64", "--json").stdout
    )
    assert waited["status"] == "completed" and waited["tasks_by_status"] == {"completed": 15}
    assert waited["rows_out"] == 15 * 320 and waited["parameters"]["batch_size"] == 64

    started = json.loads(iot_cli("pipelines", "run", "iot-anomaly", "--workers", "1", "--json").stdout)
    deadline = time.monotonic() + 120
    while (shown := json.loads(iot_cli("runs", "show", started["id"], "--json").stdout))["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, shown
        time.sleep(0.5)
    assert shown["status"] == "completed" and shown["workers"] == 1

    listed = json.loads(iot_cli("runs", "list", "--json").stdout)
    assert [r["id"] for r in listed] == [started["id"], waited["id"]]
    human = iot_cli("runs", "show", waited["id"][:8]).stdout
    assert "15 completed" in human and "Device=3/Tag=5" in human and "sensor-3-5:1" in human
    logs = iot_cli("runs", "logs", waited["id"], "--task", "Device=1/Tag=1").stdout
    assert "== score/Device=1/Tag=1 (completed) ==" in logs and "model sensor-1-1:1 (loaded): 320 rows" in logs
    (as_json,) = json.loads(iot_cli("runs", "logs", waited["id"], "--task", "Device=1/Tag=1", "--json").stdout)
    assert as_json["task"] == "Device=1/Tag=1" and "model sensor-1-1:1 (loaded): 320 rows" in as_json["log"]

    iot_cli("runs", "download", waited["id"], str(tmp_path / "out"))
    files = sorted(p.name for p in (tmp_path / "out" / "score").iterdir())
    assert len(files) == 15 and files[0] == "predictions-1-1.csv"
    assert list(pd.read_csv(tmp_path / "out" / "score" / files[0]).columns) == [
        "TS",
        "Device",
        "Tag",
        "Value",
        "Prediction",
    ]

    shown = iot_cli("pipelines", "run", "iot-anomaly", "--wait").stderr.splitlines()  # no terminal: a line a stage
    assert shown[:2] == ["step score: reading its input", "step score: 15 tasks"], shown
    assert shown[2].startswith("step score: 15 tasks done, 0 failed, 4,800 rows in "), shown


def test_batch_user_errors_are_one_line_and_exit_1(iot_cli: Run, tmp_path: Path) -> None:
    iot_cli("examples/iot/train.py", module=False)
    iot_cli("pipelines", "register", "examples/iot/pipeline.yaml")

    bad_param = iot_cli("pipelines", "run", "iot-anomaly", "--param", "batch_size=lots", expect=1)
    assert "takes values of type int" in bad_param.stderr and "Traceback" not in bad_param.stderr
    unknown = iot_cli("pipelines", "run", "iot-anomly", expect=1)
    assert "Did you mean 'iot-anomaly'?" in unknown.stderr
    assert "no run 'feedbeef'" in iot_cli("runs", "show", "feedbeef", expect=1).stderr
    (tmp_path / "broken.yaml").write_text(
        'name: broken\nsteps:\n  - {name: s, type: score, model: "m-{Device}", input: x}\n'
    )
    assert "not a partition column" in iot_cli("pipelines", "register", "broken.yaml", expect=1).stderr
    missing_input = iot_cli(
        "pipelines", "run", "iot-anomaly", "--wait", "--param", "input=nowhere.csv", "--json", expect=1
    )
    assert json.loads(missing_input.stdout)["error"] == f"the input '{tmp_path / 'nowhere.csv'}' does not exist"
    no_tasks = iot_cli("runs", "logs", json.loads(missing_input.stdout)["id"]).stdout
    assert "ended failed before it had any tasks: the input" in no_tasks

    for wait in ("--wait", "--no-wait"):  # a bad setting stops the command before it queues a run
        bad = iot_cli("pipelines", "run", "iot-anomaly", wait, extra={"MODELPORT_BATCH_WORKERS": "x"}, expect=1)
        assert bad.stderr.startswith("error: invalid setting MODELPORT_BATCH_WORKERS='x'"), bad.stderr
    assert [r["status"] for r in json.loads(iot_cli("runs", "list", "--json").stdout)] == ["failed"]

    bogus = iot_cli("runs", "list", "--status", "bogus", expect=1).stderr
    assert "a run's status is one of queued, running, completed, failed, canceled" in bogus
    assert "Did you mean 'iot-anomaly'?" in iot_cli("runs", "list", "--pipeline", "iot-anomly", expect=1).stderr
    assert iot_cli("runs", "list", "--status", "completed").stdout.strip() == "no runs with status completed"
    assert "from 4 characters on" in iot_cli("runs", "show", "f", expect=1).stderr


def test_a_split_file_is_scored_in_parts_and_downloaded_in_its_folder(iot_cli: Run, tmp_path: Path) -> None:
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"id": range(500), "a": rng.normal(size=500), "b": rng.normal(size=500)})
    frame.to_parquet(tmp_path / "big.parquet", index=False, row_group_size=100)
    joblib.dump(LogisticRegression().fit(frame[["a", "b"]], frame["a"] > 0), tmp_path / "m.pkl")
    (tmp_path / "split.yaml").write_text(
        "name: split\nsteps:\n  - {name: score, type: score, model: m, input: big.parquet, features: [a, b],"
        " keep: [id], split_rows: 200}\n"
    )
    iot_cli("models", "register", "m", "m.pkl")
    iot_cli("pipelines", "register", "split.yaml")

    run = json.loads(iot_cli("pipelines", "run", "split", "--wait", "--workers", "2", "--json").stdout)
    iot_cli("runs", "download", run["id"], str(tmp_path / "out"))

    assert run["status"] == "completed" and run["rows_out"] == 500
    parts = sorted((tmp_path / "out" / "score" / "big").iterdir())
    assert [p.name for p in parts] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert pd.concat([pd.read_parquet(p) for p in parts])["id"].tolist() == list(range(500))
