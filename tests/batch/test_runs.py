"""Runs on the local engine, end to end: the IoT pipeline's outputs equal in-process predictions; a task that fails
is retried or fails alone; ``retry`` reruns only the failed tasks; outputs are written whole; every run and task is
recorded."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from modelport import ConflictError, InvalidInputError, Workspace
from modelport.batch import Pipeline, PipelineRegistry, RunExecutor, RunRegistry

from .conftest import register_sensors
from .models import FlakyModel


def _expected(readings: pd.DataFrame, models: dict[tuple[int, int], object], device: int, tag: int) -> np.ndarray:
    rows = readings[(readings.Device == device) & (readings.Tag == tag)]
    predicted = models[(device, tag)].predict(rows[["Value"]].to_numpy())  # type: ignore[attr-defined]
    return np.where(predicted == -1, 1, 0)


def test_the_iot_pipeline_writes_one_file_per_sensor_equal_to_in_process_predictions(
    iot: Workspace, readings: pd.DataFrame, sensor_models: dict[tuple[int, int], object], tmp_path: Path
) -> None:
    run_id = RunRegistry(iot).create("iot-anomaly", {"batch_size": "100"}, workers=2, cwd=str(Path.cwd())).id

    run = RunExecutor(iot).execute(run_id)

    assert run.status == "completed", run.error
    assert run.parameters["batch_size"] == 100  # a text override takes the default's type
    assert len(run.tasks) == 15 and {t.status for t in run.tasks} == {"completed"}
    for task in run.tasks:
        device, tag = task.partition["Device"], task.partition["Tag"]
        assert task.model == f"sensor-{device}-{tag}:1"
        written = pd.read_csv(task.output)
        assert list(written.columns) == ["TS", "Device", "Tag", "Value", "Prediction"]
        assert task.rows_in == task.rows_out == len(written)
        np.testing.assert_array_equal(written["Prediction"].to_numpy(), _expected(readings, sensor_models, device, tag))
        assert Path(task.output).name == f"predictions-{device}-{tag}.csv"
        assert task.attempts == 1 and task.duration_s is not None and task.log is not None
        assert "model sensor-" in Path(task.log).read_text()
    assert sum(t.rows_out or 0 for t in run.tasks) == len(readings)
    assert not list(Path(run.output_url).rglob("*.partial"))  # nothing half-written is left


def test_the_objects_of_before_the_run_are_frozen_while_it_executes(iot: Workspace) -> None:
    """The collector skips what existed before the run while it plans and collects its tasks, and gets every object
    back once it has ended, even when the run fails."""
    import gc

    gc.unfreeze()  # whatever this test process froze before (it costs nothing but a slower collection)
    seen: list[int] = []
    run_id = RunRegistry(iot).create("iot-anomaly", {}, workers=1, cwd=str(Path.cwd())).id
    run = RunExecutor(iot, on_progress=lambda progress: seen.append(gc.get_freeze_count())).execute(run_id)
    assert run.status == "completed", run.error
    assert seen and min(seen) > 0
    assert gc.get_freeze_count() == 0

    bad = RunRegistry(iot).create("iot-anomaly", {"input": "no/such/readings.csv"}, cwd=str(Path.cwd())).id
    assert RunExecutor(iot).execute(bad).status == "failed"
    assert gc.get_freeze_count() == 0


def test_only_the_first_of_overlapping_runs_freezes() -> None:
    """A run that starts while another executes freezes nothing more: what the first run is still making stays
    collectable, and everything is unfrozen when the last one ends."""
    import gc

    from modelport.batch.runner import old_objects_frozen

    gc.unfreeze()
    with old_objects_frozen():
        frozen = gc.get_freeze_count()
        made_by_the_first = [[] for _ in range(1000)]
        with old_objects_frozen():
            assert gc.get_freeze_count() <= frozen  # the first run's new lists were not frozen
        assert gc.get_freeze_count() > 0  # still frozen for the first run
        del made_by_the_first
    assert gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_itself_is_left_as_it_is(iot: Workspace) -> None:
    import gc

    gc.freeze()  # what a server does before it forks its workers
    try:
        run_id = RunRegistry(iot).create("iot-anomaly", {}, workers=1, cwd=str(Path.cwd())).id
        run = RunExecutor(iot).execute(run_id)
        assert run.status == "completed", run.error
        assert gc.get_freeze_count() > 0  # still frozen: the run did not unfreeze what it had not frozen
    finally:
        gc.unfreeze()


def test_a_missing_model_fails_its_task_alone_and_retry_reruns_only_it(
    tmp_path: Path, sensor_models: dict[tuple[int, int], object], readings: pd.DataFrame
) -> None:
    from .conftest import PIPELINE

    ws = Workspace(tmp_path / "ws")
    register_sensors(ws, sensor_models, skip=frozenset({(2, 3)}))
    PipelineRegistry(ws).register(PIPELINE)
    runs = RunRegistry(ws)

    run = RunExecutor(ws).execute(runs.create("iot-anomaly", workers=2, cwd=str(Path.cwd())).id)

    assert run.status == "failed"
    assert "1 of 15 tasks failed" in (run.error or "")
    (bad,) = [t for t in run.tasks if t.status == "failed"]
    assert bad.key == "Device=2/Tag=3" and "sensor-2-3" in (bad.error or "")
    assert bad.attempts == 1  # a missing model is not a fault that trying again fixes
    good = {t.key: Path(t.output or "").stat().st_mtime_ns for t in run.tasks if t.status == "completed"}
    assert len(good) == 14

    register_sensors(ws, {(2, 3): sensor_models[(2, 3)]})
    left = Path(bad.output or "").parent / f".{Path(bad.output or '').name}.{'0' * 32}.partial"
    left.write_bytes(b"TS,Device")  # as a worker killed while writing that output leaves it
    assert runs.retry(run.id).status == "queued"
    again = RunExecutor(ws).execute(run.id)

    assert again.status == "completed" and again.id == run.id
    with pytest.raises(ConflictError, match="only a failed or canceled run"):
        runs.retry(run.id)
    assert {t.key: Path(t.output or "").stat().st_mtime_ns for t in again.tasks if t.key in good} == good
    (fixed,) = [t for t in again.tasks if t.key == "Device=2/Tag=3"]
    assert fixed.status == "completed" and fixed.model == "sensor-2-3:1"
    written = pd.read_csv(fixed.output or "")
    np.testing.assert_array_equal(written["Prediction"].to_numpy(), _expected(readings, sensor_models, 2, 3))
    assert not left.exists()  # the step swept what the killed attempt left, once every attempt had ended
    ws.close()


def test_a_transient_fault_is_retried_and_its_attempts_recorded(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    markers = tmp_path / "markers"
    markers.mkdir()
    joblib.dump(FlakyModel(markers, failures=1), tmp_path / "flaky.joblib")
    ws.models.register("flaky", tmp_path / "flaky.joblib", framework="sklearn")
    pd.DataFrame({"x": [1.0, 2.0, 3.0]}).to_csv(tmp_path / "in.csv", index=False)
    pipeline = Pipeline.from_dict(
        {
            "name": "flaky",
            "parameters": {"retries": 1},
            "steps": [{"name": "score", "type": "score", "model": "flaky", "input": "in.csv", "features": ["x"]}],
        }
    )
    PipelineRegistry(ws).register(pipeline)
    runs = RunRegistry(ws)

    run = RunExecutor(ws).execute(runs.create("flaky", workers=1, cwd=str(tmp_path)).id)

    assert run.status == "completed", run.error
    (task,) = run.tasks
    assert task.attempts == 2
    assert pd.read_csv(task.output or "")["Prediction"].tolist() == [2.0, 4.0, 6.0]
    log = Path(task.log or "").read_text()
    assert "attempt 1 failed: RuntimeError: a transient fault" in log and "attempt 2" in log

    (markers / "failed-0").unlink()
    no_retries = RunExecutor(ws).execute(runs.create("flaky", workers=1, retries=0, cwd=str(tmp_path)).id)
    assert no_retries.status == "failed" and no_retries.tasks[0].attempts == 1
    assert "transient fault" in (no_retries.tasks[0].error or "")
    ws.close()


def test_parameters_are_checked_when_the_run_is_created(iot: Workspace) -> None:
    runs = RunRegistry(iot)
    with pytest.raises(InvalidInputError, match=r"no parameter.*'batchsize'.*batch_size, input"):
        runs.create("iot-anomaly", {"batchsize": 5})
    with pytest.raises(InvalidInputError, match=r"takes values of type int .*not 'many'"):
        runs.create("iot-anomaly", {"batch_size": "many"})
    with pytest.raises(InvalidInputError, match="unknown engine 'spark'"):
        runs.create("iot-anomaly", engine="spark")
    assert runs.list() == []  # nothing half-created


def test_a_queued_run_is_canceled_at_once_and_is_not_executed(iot: Workspace) -> None:
    runs = RunRegistry(iot)
    run = runs.create("iot-anomaly")

    canceled = runs.cancel(run.id[:8])  # a unique start of the id is enough

    assert canceled.status == "canceled" and canceled.ended_at is not None
    with pytest.raises(ConflictError, match="not queued"):
        RunExecutor(iot).execute(run.id)
    with pytest.raises(ConflictError, match="already canceled"):
        runs.cancel(run.id)


def test_a_run_is_claimed_once(iot: Workspace) -> None:
    runs = RunRegistry(iot)
    run = runs.create("iot-anomaly")

    assert runs.claim(run.id) is True
    assert runs.claim(run.id) is False
    assert runs.get(run.id).status == "running"


def test_a_script_step_gets_parameters_and_the_score_steps_output(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    folder = tmp_path / "pipeline"
    folder.mkdir()
    (folder / "count.py").write_text(
        "import argparse, glob, os, sys\n"
        "parser = argparse.ArgumentParser()\n"
        "parser.add_argument('--predictions'); parser.add_argument('--out'); parser.add_argument('--label')\n"
        "args = parser.parse_args()\n"
        "files = sorted(glob.glob(os.path.join(args.predictions, '*.csv')))\n"
        "os.makedirs(args.out, exist_ok=True)\n"
        "with open(os.path.join(args.out, 'summary.txt'), 'w') as f:\n"
        "    f.write(f'{args.label}: {len(files)} files\\n')\n"
        "print('counted', len(files), 'files for run', os.environ['MODELPORT_RUN_ID'])\n"
    )
    joblib.dump(FlakyModel(tmp_path, failures=0), tmp_path / "double.joblib")
    ws.models.register("double", tmp_path / "double.joblib", framework="sklearn")
    pd.DataFrame({"g": ["a", "a", "b"], "x": [1.0, 2.0, 3.0]}).to_csv(tmp_path / "in.csv", index=False)
    (folder / "pipeline.yaml").write_text(
        "name: two-steps\n"
        "parameters: {label: default-label}\n"
        "steps:\n"
        "  - {name: score, type: score, model: double, input: in.csv, partition_by: [g], features: [x]}\n"
        "  - name: count\n"
        "    type: script\n"
        "    script: count.py\n"
        '    args: [--predictions, "${steps.score.output}", --out, "${output}", --label, "${label}"]\n'
    )
    version = PipelineRegistry(ws).register(folder / "pipeline.yaml")
    assert [f["path"] for f in version.files] == ["count.py"]

    run = RunExecutor(ws).execute(RunRegistry(ws).create("two-steps", {"label": "hourly"}, cwd=str(tmp_path)).id)

    assert run.status == "completed", run.error
    script = next(t for t in run.tasks if t.step == "count")
    assert Path(script.output or "", "summary.txt").read_text() == "hourly: 2 files\n"
    assert f"counted 2 files for run {run.id}" in Path(script.log or "").read_text()
    ws.close()


@pytest.mark.parametrize("needs", ["depends_on: [first]", "args: ['${steps.first.output}']"])
def test_a_failed_step_skips_the_steps_that_need_it(tmp_path: Path, needs: str) -> None:
    """Named in depends_on, or read through a reference to its output (which the run fills in before it starts)."""
    ws = Workspace(tmp_path / "ws")
    (tmp_path / "fail.py").write_text("import sys\nprint('going down')\nsys.exit(3)\n")
    (tmp_path / "after.py").write_text("print('never')\n")
    (tmp_path / "p.yaml").write_text(
        "name: fails\nsteps:\n"
        "  - {name: first, type: script, script: fail.py}\n"
        f"  - {{name: second, type: script, script: after.py, {needs}}}\n"
    )
    PipelineRegistry(ws).register(tmp_path / "p.yaml")

    run = RunExecutor(ws).execute(RunRegistry(ws).create("fails", cwd=str(tmp_path)).id)

    assert run.status == "failed"
    first, second = run.tasks
    assert first.status == "failed" and "exited with code 3" in (first.error or "")
    assert "going down" in (first.error or "")
    assert second.status == "skipped" and "first" in (second.error or "")
    ws.close()


def test_a_run_whose_executor_died_is_failed_when_stale_and_can_be_retried(iot: Workspace, tmp_path: Path) -> None:
    """And what it left goes: the input it had cut, and outputs half-written in its folder and beside its lost
    tasks' outputs elsewhere."""
    runs = RunRegistry(iot)
    run = runs.create("iot-anomaly", cwd=str(Path.cwd()))
    assert runs.claim(run.id)  # claimed by a process that then dies without a word
    keys = [f"Device={d}/Tag={t}" for d in (1, 2, 3) for t in range(1, 6)]  # a step's tasks are planned at once
    ids = runs.add_tasks(
        run.id, "score", [{"key": k, "status": "running" if k.endswith("=1") else "pending"} for k in keys]
    )

    external = tmp_path / "elsewhere"  # a task writing outside the run's folder (output.url)
    runs.update_tasks([(next(iter(ids.values())), {"output": str(external / "predictions-1-1.csv")})])
    cut = Path(run.output_url) / "spool" / "score"
    cut.mkdir(parents=True)
    (cut / "piece-00000.pickle").write_bytes(b"rows")  # the input it had cut
    outputs = Path(run.output_url) / "outputs" / "score"
    outputs.mkdir(parents=True)
    (outputs / "predictions-1-2.csv").write_bytes(b"whole")
    (outputs / f".predictions-1-3.csv.{'a' * 32}.partial").write_bytes(b"half")
    external.mkdir()
    (external / f".predictions-1-1.csv.{'b' * 32}.partial").write_bytes(b"half")
    (external / "notes.partial").write_bytes(b"not ours")  # not a name a writer of modelport's gives

    assert runs.fail_stale(after_s=3600) == []  # its claim is a heartbeat: not stale yet
    assert cut.exists()
    assert runs.fail_stale(after_s=0) == [run.id]
    assert not (Path(run.output_url) / "spool").exists()
    assert [p.name for p in outputs.iterdir()] == ["predictions-1-2.csv"]
    assert [p.name for p in external.iterdir()] == ["notes.partial"]

    failed = runs.get(run.id)
    assert failed.status == "failed" and "no heartbeat" in (failed.error or "")
    lost = [t for t in failed.tasks if t.status == "failed"]
    assert len(lost) == 3 and {t.error for t in lost} == {"lost with the run's executor"}
    again = RunExecutor(iot).execute(runs.retry(run.id).id)
    assert again.status == "completed" and len(again.tasks) == 15
    assert {t.status for t in again.tasks} == {"completed"}


def test_the_ray_address_and_workers_come_from_settings_unless_given(
    iot: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELPORT_BATCH_RAY_ADDRESS", "ray://head:10001")
    monkeypatch.setenv("MODELPORT_BATCH_WORKERS", "3")

    assert RunExecutor(iot).address == "ray://head:10001"
    assert RunExecutor(iot).settings.workers == 3
    assert RunExecutor(iot, address="auto").address == "auto"


def test_an_output_name_with_an_extension_picks_the_format_the_files_are_written_in(
    iot: Workspace, readings: pd.DataFrame, tmp_path: Path
) -> None:
    """Parquet in, ``predictions-{Device}-{Tag}.csv`` out: CSV files, not Parquet files named .csv."""
    readings[readings.Device == 1].to_parquet(tmp_path / "readings.parquet", index=False)
    source = str(tmp_path / "readings.parquet")
    step = {"name": "score", "type": "score", "model": "sensor-{Device}-{Tag}", "input": source,
            "partition_by": ["Device", "Tag"], "features": ["Value"], "keep": ["TS", "Value"]}  # fmt: skip
    named = {**step, "output": {"name": "predictions-{Device}-{Tag}.csv"}}
    PipelineRegistry(iot).register(Pipeline.from_dict({"name": "named", "steps": [named]}))

    run = RunExecutor(iot).execute(RunRegistry(iot).create("named").id)

    assert run.status == "completed", run.error
    for task in run.tasks:
        written = pd.read_csv(task.output or "")  # a Parquet file would not parse as CSV
        assert list(written.columns) == ["TS", "Value", "Prediction"] and task.rows_out == len(written)
    clash = {**step, "output": {"name": "p.csv", "format": "parquet"}}
    with pytest.raises(InvalidInputError, match=r"output name 'p\.csv' says csv, but output format is parquet"):
        Pipeline.from_dict({"name": "clash", "steps": [clash]})
