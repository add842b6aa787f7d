"""A partitioned input larger than stream_above_mb is cut into its partitions a piece at a time by the run (never
read whole), and its tasks read their rows back: the same partitions, rows, types and output bytes as a whole read,
whatever types the pieces come in; the cut files go when the step ends; ``runs retry`` cuts the input again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from modelport import Workspace
from modelport.batch import PipelineRegistry, RunExecutor, RunRegistry, datasets, spool
from modelport.batch.records import Run
from modelport.settings import BatchSettings

PIPELINE = """
name: p
steps:
  - name: score
    type: score
    model: m-{{site}}
    input: {input}
    partition_by: [{by}]
    features: [x, n]
    keep: {keep}
    mini_batch_size: 70
    retries: 0
    output: {{format: {fmt}}}
"""

SITES = ("east", "north", "south")


def _readings(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(rows)],
            "x": np.round(rng.normal(size=rows), 3),
            "n": rng.integers(0, 100, size=rows),
            "site": rng.choice(SITES, size=rows),
            "line": rng.integers(1, 4, size=rows),
        }
    )


def _workspace(tmp_path: Path, skip: tuple[str, ...] = ()) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    model = make_pipeline(SimpleImputer(), LogisticRegression())  # takes missing values
    model.fit(np.c_[np.arange(20.0), np.arange(20.0)], [0] * 10 + [1] * 10)
    for site in SITES:
        if site not in skip:
            ws.models.register(f"m-{site}", obj=model, framework="sklearn")
    return ws


def _run(
    ws: Workspace, tmp_path: Path, name: str, data: pd.DataFrame, fmt: str, keep: list[str], piece: int, by: str
) -> Run:
    """A run over ``data`` written as ``fmt`` (Parquet in row groups of 100 rows), partitioned by ``by``;
    ``piece``: rows a piece the run cuts the input in, or 0 to read it whole."""
    source = tmp_path / f"{name}.{fmt}"
    if fmt == "csv":
        data.to_csv(source, index=False)
    else:
        data.to_parquet(source, index=False, row_group_size=100)
    (tmp_path / "p.yaml").write_text(PIPELINE.format(input=source, keep=keep, fmt=fmt, by=by))
    PipelineRegistry(ws).register(tmp_path / "p.yaml")
    settings = BatchSettings(stream_above_mb=0 if piece else float("inf"), stream_piece_rows=max(piece, 1))
    return RunExecutor(ws, settings=settings).execute(RunRegistry(ws).create("p", workers=2).id)


def _outputs(run: Run) -> dict[str, bytes]:
    return {t.key: Path(t.output or "").read_bytes() for t in run.tasks}


def test_a_large_partitioned_csv_is_cut_in_pieces_into_the_partitions_of_a_whole_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _readings(1200)
    data["n"] = data["n"].astype(float)
    data.loc[1150, "n"] = np.nan  # integers to pandas until the last piece: floats, in a whole read
    data["note"] = [None] * 700 + ["checked"] * 500  # no text in the first pieces: floats, to pandas
    ws = _workspace(tmp_path)
    whole = _run(ws, tmp_path, "whole", data, "csv", ["id", "note", "site"], piece=0, by="site, line")

    def whole_read(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the run read the input whole")

    monkeypatch.setattr(datasets, "read_files", whole_read)  # in the run's process: the workers read the cut
    cut = _run(ws, tmp_path, "cut", data, "csv", ["id", "note", "site"], piece=250, by="site, line")

    assert whole.status == cut.status == "completed", (whole.error, cut.error)
    assert [t.key for t in cut.tasks] == [t.key for t in whole.tasks]
    assert len(cut.tasks) == 9 and cut.tasks[0].key == "site=east/line=1"
    assert [t.rows_in for t in cut.tasks] == [t.rows_in for t in whole.tasks]
    assert _outputs(cut) == _outputs(whole)
    assert b",checked" in b"".join(_outputs(cut).values())
    assert not (Path(cut.output_url) / "spool").exists()  # removed when the step ended
    log = Path(cut.tasks[0].log or "").read_text()
    assert "rows, read from the 5 piece(s) the run cut its input in" in log


def test_a_large_partitioned_parquet_file_keeps_its_types(tmp_path: Path) -> None:
    data = _readings(900)
    data["site"] = pd.Categorical(data["site"])
    data["at"] = pd.date_range("2026-12-01", periods=900, freq="min", tz="UTC")
    data.loc[[3, 500], "line"] = None  # a missing partition value: a partition of its own (floats)
    ws = _workspace(tmp_path)

    whole = _run(ws, tmp_path, "whole", data, "parquet", ["id", "at", "line"], piece=0, by="site, line")
    cut = _run(ws, tmp_path, "cut", data, "parquet", ["id", "at", "line"], piece=200, by="site, line")

    assert whole.status == cut.status == "completed", (whole.error, cut.error)
    assert [t.key for t in cut.tasks] == [t.key for t in whole.tasks]
    assert any(t.key.endswith("line=nan") for t in cut.tasks)
    for mine, theirs in zip(cut.tasks, whole.tasks, strict=True):
        pd.testing.assert_frame_equal(pd.read_parquet(mine.output or ""), pd.read_parquet(theirs.output or ""))


def test_a_column_the_step_needs_and_the_input_lacks_fails_the_run_as_a_whole_read_does(tmp_path: Path) -> None:
    data = _readings(300)
    ws = _workspace(tmp_path)

    whole = _run(ws, tmp_path, "whole", data, "csv", ["id", "nope"], piece=0, by="site")
    cut = _run(ws, tmp_path, "cut", data, "csv", ["id", "nope"], piece=100, by="site")

    assert whole.status == cut.status == "failed"
    assert cut.error == whole.error == "the input lacks column(s) 'nope'; it has: id, x, n, site, line"
    assert not (Path(cut.output_url) / "spool").exists()


def test_runs_retry_cuts_the_input_again_and_scores_only_the_failed_partition(tmp_path: Path) -> None:
    data = _readings(600)
    ws = _workspace(tmp_path, skip=("north",))
    run = _run(ws, tmp_path, "cut", data, "csv", ["id", "site"], piece=100, by="site")
    assert run.status == "failed"
    assert [t.key for t in run.tasks if t.status == "failed"] == ["site=north"]
    good = {t.key: Path(t.output or "").stat().st_mtime_ns for t in run.tasks if t.status == "completed"}

    model = make_pipeline(SimpleImputer(), LogisticRegression())
    model.fit(np.c_[np.arange(20.0), np.arange(20.0)], [0] * 10 + [1] * 10)
    ws.models.register("m-north", obj=model, framework="sklearn")
    RunRegistry(ws).retry(run.id)
    settings = BatchSettings(stream_above_mb=0, stream_piece_rows=100)
    again = RunExecutor(ws, settings=settings).execute(run.id)

    assert again.status == "completed", again.error
    assert {t.key: Path(t.output or "").stat().st_mtime_ns for t in again.tasks if t.key in good} == good
    (north,) = [t for t in again.tasks if t.key == "site=north"]
    written = pd.read_csv(north.output or "")
    assert written["id"].tolist() == data.loc[data["site"] == "north", "id"].tolist()
    assert not (Path(again.output_url) / "spool").exists()


def test_the_cut_reads_back_each_partitions_rows_in_the_inputs_order(tmp_path: Path) -> None:
    data = _readings(500)
    source = tmp_path / "in.csv"
    data.to_csv(source, index=False)

    done = spool.cut([str(source)], "csv", str(tmp_path), ["site"], ["x"], 120, str(tmp_path / "spool"))

    assert done.pieces == 5 and done.rows == 500
    assert [values for values, _ in done.partitions] == [(s,) for s in SITES]
    whole = dict(datasets.partition_rows(pd.read_csv(source), ["site"]))
    for values, blobs in done.partitions:
        assert len(blobs) == 5  # a piece of 120 rows holds every site
        got = spool.read(blobs)
        assert list(got) == list(whole[values])
        for name, column in got.items():
            np.testing.assert_array_equal(column, whole[values][name])


@pytest.mark.parametrize(("piece", "read"), [(150, [0, 150, 300, 450, 600, 700]), (0, [0, 700])])
def test_planning_reports_the_rows_read_before_the_tasks_start(tmp_path: Path, piece: int, read: list[int]) -> None:
    """A progress bar has something to show while a large input is read and cut: the rows so far, piece by piece
    where it is cut in pieces, all before the first task's progress."""
    from modelport.batch import Progress

    ws = _workspace(tmp_path)
    _readings(700).to_csv(tmp_path / "in.csv", index=False)
    (tmp_path / "p.yaml").write_text(PIPELINE.format(input=tmp_path / "in.csv", keep=["id"], fmt="csv", by="site"))
    PipelineRegistry(ws).register(tmp_path / "p.yaml")
    settings = BatchSettings(stream_above_mb=0 if piece else float("inf"), stream_piece_rows=max(piece, 1))
    seen: list[Progress] = []

    run = RunExecutor(ws, settings=settings, on_progress=seen.append).execute(RunRegistry(ws).create("p").id)

    assert run.status == "completed", run.error
    planning = [p for p in seen if p.planning]
    assert [p.rows for p in planning] == read
    assert seen[: len(planning)] == planning and all(p.total == 0 and p.step == "score" for p in planning)
    assert [p.elapsed_s for p in planning] == sorted(p.elapsed_s for p in planning)
    assert seen[-1].total == 3 and seen[-1].done == 3 and seen[-1].rows == 700 and not seen[-1].planning
    ws.close()
