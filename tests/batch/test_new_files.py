"""A score step with ``new_files_only`` scores the input files no earlier run of its pipeline took: an hourly run
over a folder that ingest keeps adding files to scores each file once. Each file is taken by exactly one run, even
by runs planned at the same moment on one database; a retried run keeps the files it took."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelport import Workspace
from modelport.batch import Pipeline, PipelineRegistry, RunExecutor, RunRegistry
from modelport.batch.records import Run
from tests.helpers import run_in_processes, take_inputs_worker

from .conftest import register_sensors

PIPELINE = """
name: fresh
parameters:
  input: {default: lake}
steps:
  - name: score
    type: score
    model: sensor-{Device}-{Tag}
    input: ${input}
    partition_by: [Device, Tag]
    features: [Value]
    labels: {1: 0, -1: 1}
    keep: [TS, Device, Tag, Value]
    new_files_only: true
"""


def _hours(readings: pd.DataFrame, lake: Path, hours: range) -> list[pd.DataFrame]:
    """The readings of devices 1 and 2, cut into files of 400 rows (one per "hour"), written as ingest would."""
    rows = readings[readings.Device.isin([1, 2])].reset_index(drop=True)
    written = []
    for hour in hours:
        part = rows.iloc[hour * 400 : (hour + 1) * 400]
        folder = lake / "date=2018-08-28"
        folder.mkdir(parents=True, exist_ok=True)
        part.to_csv(folder / f"hour-{hour:02d}.csv", index=False)
        written.append(part)
    return written


def _run(ws: Workspace, **parameters: str) -> Run:
    return RunExecutor(ws).execute(RunRegistry(ws).create("fresh", parameters, workers=1, cwd=str(Path.cwd())).id)


def _scored(run: Run) -> pd.DataFrame:
    frames = [pd.read_csv(t.output or "") for t in run.tasks if t.status == "completed"]
    return pd.concat(frames).sort_values(["Device", "Tag", "TS"]).reset_index(drop=True)


def _expected(rows: pd.DataFrame, models: dict[tuple[int, int], object]) -> pd.DataFrame:
    out = []
    for (device, tag), part in rows.groupby(["Device", "Tag"]):
        predicted = models[(device, tag)].predict(part[["Value"]].to_numpy())  # type: ignore[attr-defined]
        out.append(part.assign(Prediction=np.where(predicted == -1, 1, 0)))
    return pd.concat(out).sort_values(["Device", "Tag", "TS"]).reset_index(drop=True)


@pytest.fixture
def fresh(tmp_path: Path, sensor_models: dict[tuple[int, int], object], monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.chdir(tmp_path)
    ws = Workspace(tmp_path / "ws")
    register_sensors(ws, sensor_models)
    (tmp_path / "fresh.yaml").write_text(PIPELINE)
    PipelineRegistry(ws).register(tmp_path / "fresh.yaml")
    return ws


def test_each_run_scores_the_files_no_earlier_run_took(
    fresh: Workspace, tmp_path: Path, readings: pd.DataFrame, sensor_models: dict[tuple[int, int], object]
) -> None:
    (tmp_path / "lake" / "date=2018-08-28").mkdir(parents=True)
    before = _run(fresh)  # the folder is there, no file yet (ingest has closed no window): nothing to score
    assert before.status == "completed" and len(before.tasks) == 0, before.error
    missing = _run(fresh, input=str(tmp_path / "no-lake"))  # a folder that is not there is a mistake, though
    assert missing.status == "failed" and "does not exist" in (missing.error or "")
    typo = _run(fresh, input=str(tmp_path / "lak" / "*" / "*.csv"))  # and so is a glob whose folder is not there
    assert typo.status == "failed" and "holds no CSV or Parquet files" in (typo.error or "")

    first_hours = _hours(readings, tmp_path / "lake", range(2))

    first = _run(fresh)
    assert first.status == "completed", first.error
    assert sum(t.rows_in or 0 for t in first.tasks) == 800
    pd.testing.assert_frame_equal(_scored(first), _expected(pd.concat(first_hours), sensor_models))

    (third,) = _hours(readings, tmp_path / "lake", range(2, 3))
    second = _run(fresh)
    assert second.status == "completed", second.error
    assert sum(t.rows_in or 0 for t in second.tasks) == 400  # only the new file's rows
    pd.testing.assert_frame_equal(_scored(second), _expected(third, sensor_models))
    assert RunRegistry(fresh).context(second.id)["steps"]["score"]["files"] == [
        str(tmp_path / "lake" / "date=2018-08-28" / "hour-02.csv")
    ]

    nothing = _run(fresh)
    assert nothing.status == "completed" and len(nothing.tasks) == 0  # nothing new: a run with no tasks
    other = _run(fresh, input=str(tmp_path / "lake" / "date=2018-08-28" / "hour-0[01].csv"))
    assert other.status == "completed" and len(other.tasks) == 0  # the same files by another name are not new
    fresh.close()


def test_a_new_version_continues_where_the_last_left_and_a_plain_step_takes_nothing(
    fresh: Workspace, tmp_path: Path, readings: pd.DataFrame
) -> None:
    _hours(readings, tmp_path / "lake", range(2))
    plain = Pipeline.from_dict({"name": "fresh", "parameters": {"input": {"default": "lake"}}, "steps": [
        {"name": "score", "type": "score", "model": "sensor-{Device}-{Tag}", "input": "${input}",
         "partition_by": ["Device", "Tag"], "features": ["Value"]}
    ]})  # fmt: skip
    assert PipelineRegistry(fresh).register(plain).version == 2
    assert sum(t.rows_in or 0 for t in _run(fresh).tasks) == 800  # version 2 takes nothing...

    (tmp_path / "fresh.yaml").write_text(PIPELINE + "    mini_batch_size: 100\n")
    assert PipelineRegistry(fresh).register(tmp_path / "fresh.yaml").version == 3
    assert sum(t.rows_in or 0 for t in _run(fresh).tasks) == 800  # ...so version 3 finds both files new
    _hours(readings, tmp_path / "lake", range(2, 3))
    (tmp_path / "fresh.yaml").write_text(PIPELINE + "    retries: 1\n")
    assert PipelineRegistry(fresh).register(tmp_path / "fresh.yaml").version == 4
    assert sum(t.rows_in or 0 for t in _run(fresh).tasks) == 400  # version 4 goes on from version 3's files
    fresh.close()


def test_a_retried_run_scores_the_files_it_took_and_a_new_run_the_rest(
    tmp_path: Path,
    readings: pd.DataFrame,
    sensor_models: dict[tuple[int, int], object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    ws = Workspace(tmp_path / "ws")
    register_sensors(ws, sensor_models, skip=frozenset({(2, 3)}))
    (tmp_path / "fresh.yaml").write_text(PIPELINE)
    PipelineRegistry(ws).register(tmp_path / "fresh.yaml")
    taken = pd.concat(_hours(readings, tmp_path / "lake", range(2)))

    failed = _run(ws)
    assert failed.status == "failed" and [t.key for t in failed.tasks if t.status == "failed"] == ["Device=2/Tag=3"]
    register_sensors(ws, {(2, 3): sensor_models[(2, 3)]})
    _hours(readings, tmp_path / "lake", range(2, 3))  # arrives before the retry

    retried = RunExecutor(ws).execute(RunRegistry(ws).retry(failed.id).id)
    assert retried.status == "completed"
    (fixed,) = [t for t in retried.tasks if t.key == "Device=2/Tag=3"]
    assert fixed.rows_in == ((taken.Device == 2) & (taken.Tag == 3)).sum()  # of the files it took, not the third
    later = _run(ws)
    assert later.status == "completed" and sum(t.rows_in or 0 for t in later.tasks) == 400
    files = [RunRegistry(ws).context(r.id)["steps"]["score"]["files"] for r in (failed, later)]
    hour = [str(tmp_path / "lake" / "date=2018-08-28" / f"hour-{h:02d}.csv") for h in range(3)]
    assert files == [hour[:2], hour[2:]]
    ws.close()


def test_runs_planned_at_once_never_take_the_same_file(tmp_path: Path, db_url: str) -> None:
    with Workspace(tmp_path / "ws", db_url=db_url) as ws:
        (tmp_path / "fresh.yaml").write_text(PIPELINE)
        PipelineRegistry(ws).register(tmp_path / "fresh.yaml")
        runs = [RunRegistry(ws).create("fresh").id for _ in range(3)]
    files = [f"s3://lake/sensors/date=2018-08-28/{minute:04d}.parquet" for minute in range(600)]

    outcomes = run_in_processes(take_inputs_worker, [(str(tmp_path / "ws"), db_url, run, files) for run in runs])

    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    taken = [set(value) for _, value in outcomes]
    assert set().union(*taken) == set(files) and sum(map(len, taken)) == len(files)
    with Workspace(tmp_path / "ws", db_url=db_url) as ws:  # asked again, each run has what it took
        again = [set(RunRegistry(ws).take_new_inputs(run, "score", files)) for run in runs]
    assert sorted(map(sorted, again)) == sorted(map(sorted, taken))


def test_new_files_only_is_true_or_false() -> None:
    from modelport import InvalidInputError

    step = {"name": "s", "type": "score", "model": "m", "input": "lake", "new_files_only": "yes"}
    with pytest.raises(InvalidInputError, match="'new_files_only' must be true or false, not 'yes'"):
        Pipeline.from_dict({"name": "p", "steps": [step]})
    stored = Pipeline.from_dict({"name": "p", "steps": [{**step, "new_files_only": True}]}).to_dict()
    assert stored["steps"][0]["new_files_only"] is True
    assert (
        "new_files_only"
        not in Pipeline.from_dict({"name": "p", "steps": [{**step, "new_files_only": False}]}).to_dict()["steps"][0]
    )


def test_a_run_whose_planning_fails_gives_its_files_back(
    fresh: Workspace, tmp_path: Path, readings: pd.DataFrame
) -> None:
    """No task was planned, so no file was scored: the next run takes them, once the cause is gone."""
    _hours(readings, tmp_path / "lake", range(2))
    bad = tmp_path / "lake" / "date=2018-08-28" / "hour-01b.csv"
    bad.write_text('TS,Device,Tag,Value\n"2018-08-28 23:00:00,1,1,5\n')  # a quote that never closes

    broken = _run(fresh)
    assert broken.status == "failed" and "cannot read" in (broken.error or "") and len(broken.tasks) == 0
    bad.unlink()
    fixed = _run(fresh)
    assert fixed.status == "completed" and sum(t.rows_in or 0 for t in fixed.tasks) == 800
    assert "score" not in RunRegistry(fresh).context(broken.id).get("steps", {})  # its retry would list them anew
    fresh.close()


def test_a_retry_whose_input_file_is_gone_fails_saying_which(
    fresh: Workspace, tmp_path: Path, readings: pd.DataFrame, sensor_models: dict[tuple[int, int], object]
) -> None:
    _hours(readings, tmp_path / "lake", range(2))
    first = _run(fresh)
    assert first.status == "completed"
    fresh.models.delete("sensor-1-1:1", force=True)  # stand-in for any task failing
    (tmp_path / "lake" / "date=2018-08-28" / "hour-00.csv").unlink()
    runs = RunRegistry(fresh)
    runs.update_tasks([(first.tasks[0].id, {"status": "failed"})])
    runs.finish(first.id, "failed", "one task failed")

    again = RunExecutor(fresh).execute(runs.retry(first.id).id)

    assert again.status == "failed"
    assert again.error == f"step 'score': its input file {tmp_path}/lake/date=2018-08-28/hour-00.csv is gone"
    fresh.close()


def test_a_step_after_one_with_nothing_new_finds_an_empty_folder(
    fresh: Workspace, tmp_path: Path, readings: pd.DataFrame
) -> None:
    (tmp_path / "count.py").write_text(
        "import os, pathlib, sys\n"
        "out = pathlib.Path(os.environ['MODELPORT_OUTPUT'])\n"
        "out.mkdir(parents=True, exist_ok=True)\n"
        "(out / 'count.txt').write_text(str(len(list(pathlib.Path(sys.argv[1]).rglob('*.csv')))))\n"
    )
    (tmp_path / "fresh.yaml").write_text(
        PIPELINE
        + "  - {name: count, type: script, script: count.py, args: ['${steps.score.output}']}\n"
        + "  - {name: again, type: score, model: 'sensor-{Device}-{Tag}', input: '${steps.score.output}',\n"
        + "     partition_by: [Device, Tag], features: [Value]}\n"
    )
    PipelineRegistry(fresh).register(tmp_path / "fresh.yaml")
    _hours(readings, tmp_path / "lake", range(1))

    busy, idle = _run(fresh), _run(fresh)

    assert busy.status == "completed" and idle.status == "completed", (busy.error, idle.error)
    counts = [(Path(r.output_url) / "outputs" / "count" / "count.txt").read_text() for r in (busy, idle)]
    assert counts == ["10", "0"]
    assert [len([t for t in r.tasks if t.step == "again"]) for r in (busy, idle)] == [10, 0]
    fresh.close()
