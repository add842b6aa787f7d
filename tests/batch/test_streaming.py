"""A large input is read and scored a piece at a time, into an output put in place whole: the pieces are what a
whole read gives, cut in rows; the output is the same as scoring the input whole (the same CSV bytes), whatever
types the pieces come in; a failure mid-way leaves no file, on a disk or on an object store."""

from __future__ import annotations

from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from modelport import Workspace
from modelport.batch import PipelineRegistry, RunExecutor, RunRegistry, datasets
from modelport.batch.records import Run
from modelport.settings import BatchSettings


def _readings(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(rows)],
            "x": np.round(rng.normal(size=rows), 3),
            "n": rng.integers(0, 100, size=rows),
            "site": pd.Categorical(rng.choice(["north", "south", "east"], size=rows)),
        }
    )


# -- reading in pieces ------------------------------------------------------------------------------------------


def test_the_pieces_of_csv_files_are_the_whole_read_cut_in_rows_with_their_hive_columns(tmp_path: Path) -> None:
    data = _readings(230).drop(columns="site")
    for day, part in (("2026-12-01", data[:100]), ("2026-12-02", data[100:])):
        folder = tmp_path / "in" / f"day={day}"
        folder.mkdir(parents=True)
        part.to_csv(folder / "part.csv", index=False)
    files, fmt, root = datasets.resolve_files(str(tmp_path / "in"))

    pieces = list(datasets.iter_frames(files, fmt, root, rows=40))

    assert [len(p) for p in pieces] == [40] * 5 + [30]  # across the files' boundary, which is at 100
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), datasets.read_files(files, fmt, root))
    where = list(datasets.iter_frames(files, fmt, root, rows=40, where={"day": "2026-12-02"}))
    whole = datasets.read_files(files, fmt, root)
    expected = whole[whole["day"] == "2026-12-02"].reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.concat(where, ignore_index=True), expected)
    assert [len(p) for p in where] == [40, 40, 40, 10]


def test_the_pieces_of_a_parquet_file_keep_its_types_and_the_whole_files_categories(tmp_path: Path) -> None:
    data = _readings(1000)
    data["at"] = pd.date_range("2026-12-01", periods=1000, freq="min", tz="UTC")
    data.to_parquet(tmp_path / "in.parquet", index=False, row_group_size=300)  # each row group has its own dictionary

    pieces = list(datasets.iter_frames([str(tmp_path / "in.parquet")], "parquet", str(tmp_path), rows=128))

    assert [len(p) for p in pieces] == [128] * 7 + [104]
    whole = pd.read_parquet(tmp_path / "in.parquet")
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), whole)
    assert all(p["site"].dtype == whole["site"].dtype for p in pieces)


def test_an_input_without_rows_is_one_piece_with_its_columns(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("id,x\n")

    (piece,) = datasets.iter_frames([str(tmp_path / "in.csv")], "csv", str(tmp_path), rows=10)

    assert list(piece.columns) == ["id", "x"] and len(piece) == 0


def test_a_file_that_is_not_csv_fails_as_bad_input(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_bytes(b'id,x\n1,"2\n')

    with pytest.raises(datasets.InvalidInputError, match=r"cannot read .* as csv"):
        list(datasets.iter_frames([str(tmp_path / "in.csv")], "csv", str(tmp_path), rows=10))


# -- writing in pieces ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["plain", 'with "quotes", and commas'])
def test_a_csv_written_in_pieces_is_the_bytes_of_the_whole(tmp_path: Path, text: str) -> None:
    data = _readings(50).assign(note=text)
    columns = datasets.columns_of(data)
    datasets.write_columns(columns, str(tmp_path / "whole.csv"), "csv")

    with datasets.OutputFile(str(tmp_path / "pieces.csv"), "csv") as out:
        for start in range(0, 50, 15):
            out.write({name: values[start : start + 15] for name, values in columns.items()})

    assert (tmp_path / "pieces.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pieces.csv", "whole.csv"]


def test_a_parquet_written_in_pieces_reads_back_as_the_whole(tmp_path: Path) -> None:
    data = _readings(50)
    data["label"] = pd.array([None if i % 7 == 0 else f"l{i}" for i in range(50)], dtype="str")
    dtypes = datasets.text_dtypes(data)
    columns = datasets.columns_of(data)

    with datasets.OutputFile(str(tmp_path / "out.parquet"), "parquet") as out:
        for start in range(0, 50, 20):
            out.write({name: values[start : start + 20] for name, values in columns.items()}, dtypes)

    back = pd.read_parquet(tmp_path / "out.parquet")
    pd.testing.assert_frame_equal(back, data.astype({"site": back["site"].dtype}))
    assert out.bytes == (tmp_path / "out.parquet").stat().st_size


def test_an_output_whose_writing_fails_leaves_nothing_on_the_disk(tmp_path: Path) -> None:
    columns = datasets.columns_of(_readings(10))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.csv").write_text("the previous attempt's file\n")

    with (
        pytest.raises(RuntimeError, match="mid-way"),
        datasets.OutputFile(str(tmp_path / "out" / "a.csv"), "csv") as out,
    ):
        out.write(columns)
        raise RuntimeError("the model failed mid-way")

    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.csv"]
    assert (tmp_path / "out" / "a.csv").read_text() == "the previous attempt's file\n"


def test_on_an_object_store_the_output_appears_whole_when_done_and_not_at_all_on_failure() -> None:
    fs = fsspec.filesystem("memory")
    columns = datasets.columns_of(_readings(30))
    datasets.write_columns(columns, "memory://whole/a.csv", "csv")

    with datasets.OutputFile("memory://pieces/a.csv", "csv") as out:
        out.write({name: values[:10] for name, values in columns.items()})
        assert not fs.exists("/pieces/a.csv")
        out.write({name: values[10:] for name, values in columns.items()})
    with pytest.raises(RuntimeError), datasets.OutputFile("memory://failed/a.csv", "csv") as failed:
        failed.write(columns)
        raise RuntimeError

    assert fs.cat_file("/pieces/a.csv") == fs.cat_file("/whole/a.csv")
    assert not fs.exists("/failed/a.csv")
    fs.rm("/", recursive=True)


# -- scoring in pieces ------------------------------------------------------------------------------------------

PIPELINE = """
name: p
steps:
  - name: score
    type: score
    model: m
    input: {input}
    features: [x, n]
    keep: {keep}
    mini_batch_size: 70
    retries: 0
    output: {{format: {fmt}}}
{extra}"""


def _run(
    tmp_path: Path,
    name: str,
    data: pd.DataFrame,
    fmt: str,
    out: str,
    keep: list[str],
    piece: int,
    split: int | None = None,
    workers: int = 1,
) -> Run:
    """A run of a one-step pipeline over ``data`` (written as ``fmt``, Parquet in row groups of 100 rows) in the
    workspace of ``tmp_path``; ``piece``: rows a piece, or 0 to read the input whole; ``split``: its split_rows."""
    ws = Workspace(tmp_path / "ws")
    if not ws.models.list():
        model = make_pipeline(SimpleImputer(), LogisticRegression())  # takes missing values
        model.fit(np.c_[np.arange(20.0), np.arange(20.0)], [0] * 10 + [1] * 10)
        ws.models.register("m", obj=model, framework="sklearn")
    source = tmp_path / f"{name}.{fmt}"
    if fmt == "csv":
        data.to_csv(source, index=False)
    else:
        data.to_parquet(source, index=False, row_group_size=100)
    extra = "" if split is None else f"    split_rows: {split}\n"
    (tmp_path / "p.yaml").write_text(PIPELINE.format(input=source, keep=keep, fmt=out, extra=extra))
    PipelineRegistry(ws).register(tmp_path / "p.yaml")
    settings = BatchSettings(stream_above_mb=0 if piece else float("inf"), stream_piece_rows=max(piece, 1))
    run = RunExecutor(ws, settings=settings).execute(RunRegistry(ws).create("p", workers=workers).id)
    ws.close()
    return run


def _log(run: Run) -> str:
    return Path(run.tasks[0].log or "").read_text()


def test_a_csv_scored_in_pieces_is_the_csv_scored_whole_when_its_types_change_late(tmp_path: Path) -> None:
    data = _readings(1000).drop(columns="site")
    data["n"] = data["n"].astype(float)
    data.loc[990, "n"] = np.nan  # an integer column to pandas, until the last piece: float, in a whole read
    data["note"] = [None] * 500 + ["checked"] * 500  # no text at all in the first pieces: floats, to pandas
    data.loc[400, "x"] = np.nan

    whole = _run(tmp_path, "whole", data, "csv", "csv", ["id", "note"], piece=0)
    pieces = _run(tmp_path, "pieces", data, "csv", "csv", ["id", "note"], piece=150)

    assert whole.status == pieces.status == "completed", (whole.error, pieces.error)
    assert pieces.tasks[0].rows_in == pieces.tasks[0].rows_out == 1000
    written = Path(pieces.tasks[0].output or "").read_bytes()
    assert written == Path(whole.tasks[0].output or "").read_bytes()
    log = _log(pieces)
    assert "read a piece at a time" in log and "reading again with" in log and "in 5 piece(s) of up to 210" in log
    assert "read a piece at a time" not in _log(whole)


def test_parquet_scored_in_pieces_keeps_its_types_and_gives_the_rows_scored_whole(tmp_path: Path) -> None:
    data = _readings(700)
    data["at"] = pd.date_range("2026-12-01", periods=700, freq="min", tz="UTC")

    whole = _run(tmp_path, "whole", data, "parquet", "parquet", ["id", "site", "at"], piece=0)
    pieces = _run(tmp_path, "pieces", data, "parquet", "parquet", ["id", "site", "at"], piece=100)

    assert whole.status == pieces.status == "completed", (whole.error, pieces.error)
    expected = pd.read_parquet(whole.tasks[0].output or "")
    pd.testing.assert_frame_equal(pd.read_parquet(pieces.tasks[0].output or ""), expected)
    assert "in 5 piece(s) of up to 140" in _log(pieces)


def test_dates_written_to_csv_are_scored_whole_because_pandas_formats_them_per_column(tmp_path: Path) -> None:
    data = _readings(300)
    data["at"] = pd.date_range("2026-12-01", periods=300, freq="h")  # midnights only in some pieces

    whole = _run(tmp_path, "whole", data, "parquet", "csv", ["id", "at"], piece=0)
    pieces = _run(tmp_path, "pieces", data, "parquet", "csv", ["id", "at"], piece=24)

    assert pieces.status == "completed", pieces.error
    assert Path(pieces.tasks[0].output or "").read_bytes() == Path(whole.tasks[0].output or "").read_bytes()
    assert "reading the input whole instead: pandas chooses the CSV text of 'at'" in _log(pieces)


def test_a_bad_row_mid_way_fails_the_task_and_leaves_no_output(tmp_path: Path) -> None:
    data = _readings(400).drop(columns="site").astype({"n": object})
    data.loc[350, "n"] = "not a number"

    run = _run(tmp_path, "bad", data, "csv", "csv", ["id"], piece=100)

    assert run.status == "failed"
    output = Path(run.tasks[0].output or "")
    assert not output.exists() and not list(output.parent.glob(".*partial"))


# -- a large file split into tasks ------------------------------------------------------------------------------


def test_row_groups_are_cut_into_parts_of_at_least_the_rows_asked(tmp_path: Path) -> None:
    _readings(1000).to_parquet(tmp_path / "in.parquet", index=False, row_group_size=100)
    path = str(tmp_path / "in.parquet")

    assert datasets.row_group_parts(path, 250) == [(0, 1, 2), (3, 4, 5), (6, 7, 8), (9,)]
    assert datasets.row_group_parts(path, 5000) == [tuple(range(10))]
    part = datasets.read_files([path], "parquet", str(tmp_path), part=(3, 4, 5))
    whole = pd.read_parquet(path)
    pd.testing.assert_frame_equal(part, whole.iloc[300:600].reset_index(drop=True))
    whole_size = datasets.data_size([path], "parquet")
    assert datasets.data_size([path], "parquet", (3, 4, 5)) == pytest.approx(whole_size * 0.3, rel=0.05)
    assert datasets.data_size([path], "parquet") > (tmp_path / "in.parquet").stat().st_size  # uncompressed


@pytest.mark.parametrize(("out", "piece"), [("parquet", 0), ("csv", 60)])
def test_a_parquet_file_split_into_tasks_gives_the_rows_of_the_whole_in_part_files(
    tmp_path: Path, out: str, piece: int
) -> None:
    data = _readings(1000)

    whole = _run(tmp_path, "data", data, "parquet", out, ["id", "site"], piece=0)
    split = _run(tmp_path, "data", data, "parquet", out, ["id", "site"], piece=piece, split=300, workers=2)

    assert split.status == "completed", split.error
    assert [t.key for t in split.tasks] == [f"data.parquet/part-0000{i}" for i in range(4)]
    assert [t.rows_out for t in split.tasks] == [300, 300, 300, 100]
    outputs = [Path(t.output or "") for t in split.tasks]
    assert [p.relative_to(outputs[0].parents[1]).as_posix() for p in outputs] == [
        f"data/part-0000{i}.{out}" for i in range(4)
    ]
    if out == "parquet":
        joined = pd.concat([pd.read_parquet(p) for p in outputs], ignore_index=True)
        pd.testing.assert_frame_equal(joined, pd.read_parquet(whole.tasks[0].output or ""))
    else:  # the parts' rows, one header: the whole run's CSV byte for byte
        texts = [p.read_bytes() for p in outputs]
        joined_bytes = texts[0] + b"".join(t.split(b"\n", 1)[1] for t in texts[1:])
        assert joined_bytes == Path(whole.tasks[0].output or "").read_bytes()
        assert "read a piece at a time" in Path(split.tasks[0].log or "").read_text()


@pytest.mark.parametrize("block", [7, 1 << 20])  # blocks that cut quoted fields and rows, and one for the file
@pytest.mark.parametrize("last_newline", [True, False])
def test_a_csv_file_is_cut_between_rows_and_never_inside_a_quoted_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int, last_newline: bool
) -> None:
    monkeypatch.setattr(datasets, "CSV_SCAN_BYTES", block)
    data = pd.DataFrame(
        {"id": range(23), "note": [f'line one\nline "two", {i}' if i % 3 == 0 else f"plain {i}" for i in range(23)]}
    )
    text = data.to_csv(index=False)
    (tmp_path / "in.csv").write_text(text if last_newline else text.rstrip("\n"))
    path = str(tmp_path / "in.csv")

    parts = datasets.csv_parts(path, 5)

    assert len(parts) == 5
    pieces = [datasets.read_files([path], "csv", str(tmp_path), part=part) for part in parts]
    assert [len(p) for p in pieces] == [5, 5, 5, 5, 3]
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), pd.read_csv(path))
    streamed = list(datasets.iter_frames([path], "csv", str(tmp_path), rows=2, part=parts[1]))
    pd.testing.assert_frame_equal(pd.concat(streamed, ignore_index=True), pieces[1])
    assert datasets.data_size([path], "csv", parts[0]) == parts[0][2] - parts[0][1]


def test_a_csv_file_of_a_header_alone_is_one_empty_part(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("id,x\n")

    (part,) = datasets.csv_parts(str(tmp_path / "in.csv"), 10)

    frame = datasets.read_files([str(tmp_path / "in.csv")], "csv", str(tmp_path), part=part)
    assert list(frame.columns) == ["id", "x"] and len(frame) == 0


@pytest.mark.parametrize("piece", [0, 70])
def test_a_csv_file_split_into_tasks_gives_the_csv_scored_whole_in_parts(tmp_path: Path, piece: int) -> None:
    data = _readings(1000).drop(columns="site").assign(note=lambda d: [f'"{i}", quoted' for i in d["id"].index])

    whole = _run(tmp_path, "data", data, "csv", "csv", ["id", "note"], piece=0)
    split = _run(tmp_path, "data", data, "csv", "csv", ["id", "note"], piece=piece, split=400, workers=2)

    assert split.status == "completed", split.error
    assert [t.key for t in split.tasks] == [f"data.csv/part-0000{i}" for i in range(3)]
    assert [t.rows_out for t in split.tasks] == [400, 400, 200]
    texts = [Path(t.output or "").read_bytes() for t in split.tasks]
    assert (
        texts[0] + b"".join(t.split(b"\n", 1)[1] for t in texts[1:]) == Path(whole.tasks[0].output or "").read_bytes()
    )


def test_split_rows_and_partition_by_together_are_refused_when_the_pipeline_is_defined(tmp_path: Path) -> None:
    from modelport.batch.pipeline import Pipeline
    from modelport.errors import InvalidInputError

    step = {"name": "s", "type": "score", "model": "m", "input": "x.parquet", "split_rows": 10, "partition_by": ["a"]}
    with pytest.raises(InvalidInputError, match="leave out one of split_rows and partition_by"):
        Pipeline.from_dict({"name": "p", "steps": [step]})


def test_a_large_input_reports_its_rows_while_its_task_runs(tmp_path: Path) -> None:
    import joblib

    from modelport.batch.runner import Progress

    from .models import SlowModel

    ws = Workspace(tmp_path / "ws")
    joblib.dump(SlowModel(0.05), tmp_path / "slow.joblib")
    ws.models.register("m", tmp_path / "slow.joblib", framework="sklearn")
    _readings(2000).drop(columns="site").to_csv(tmp_path / "in.csv", index=False)
    (tmp_path / "p.yaml").write_text(PIPELINE.format(input=tmp_path / "in.csv", keep=["id"], fmt="csv", extra=""))
    PipelineRegistry(ws).register(tmp_path / "p.yaml")
    seen: list[Progress] = []
    settings = BatchSettings(stream_above_mb=0, stream_piece_rows=100)  # 15 pieces of 140 rows, 0.1 s each

    run = RunExecutor(ws, settings=settings, on_progress=seen.append, poll_s=0.05).execute(
        RunRegistry(ws).create("p", workers=1).id
    )

    assert run.status == "completed", run.error
    during = [p.rows for p in seen if p.done == 0]
    assert any(0 < rows < 2000 for rows in during), during
    assert during == sorted(during) and seen[-1].rows == 2000
    ws.close()


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_a_compressed_csv_is_read_as_the_csv_it_holds_whole_or_in_pieces(tmp_path: Path, suffix: str) -> None:
    data = _readings(500).drop(columns="site")

    plain = _run(tmp_path, "data", data, "csv", "csv", ["id"], piece=0)
    source = tmp_path / "in"
    source.mkdir()
    data.to_csv(source / f"data.csv{suffix}", index=False)  # pandas compresses by the name
    files, fmt, root = datasets.resolve_files(str(source))
    assert (files, fmt) == ([str(source / f"data.csv{suffix}")], "csv")
    pd.testing.assert_frame_equal(datasets.read_files(files, fmt, root), pd.read_csv(tmp_path / "data.csv"))
    pieces = list(datasets.iter_frames(files, fmt, root, rows=200))
    assert [len(p) for p in pieces] == [200, 200, 100]
    assert datasets.data_size(files, fmt) == 5 * (source / f"data.csv{suffix}").stat().st_size
    with pytest.raises(datasets.InvalidInputError, match=r"split_rows cannot cut .* it is compressed"):
        datasets.csv_parts(files[0], 100)
    assert datasets.stem_of(f"date=1/data.csv{suffix}") == "date=1/data" and datasets.stem_of("a.parquet") == "a"
    ws = Workspace(tmp_path / "ws")
    (tmp_path / "p.yaml").write_text(PIPELINE.format(input=source, keep=["id"], fmt="csv", extra=""))
    PipelineRegistry(ws).register(tmp_path / "p.yaml")
    settings = BatchSettings(stream_above_mb=0, stream_piece_rows=150)
    run = RunExecutor(ws, settings=settings).execute(RunRegistry(ws).create("p", workers=1).id)
    ws.close()

    assert run.status == "completed", run.error
    (task,) = run.tasks
    assert task.key == f"data.csv{suffix}" and Path(task.output or "").name == "data.csv"
    assert Path(task.output or "").read_bytes() == Path(plain.tasks[0].output or "").read_bytes()
    assert "read a piece at a time" in Path(task.log or "").read_text()


def test_text_that_looks_like_numbers_at_first_keeps_its_text_when_read_again(tmp_path: Path) -> None:
    data = _readings(600).drop(columns="site")
    data["code"] = ["007"] * 300 + ["A1"] * 300  # numbers to pandas in the first pieces, text in the whole file
    data["flag"] = ["true"] * 400 + ["maybe"] * 200

    whole = _run(tmp_path, "whole", data, "csv", "csv", ["id", "code", "flag"], piece=0)
    pieces = _run(tmp_path, "pieces", data, "csv", "csv", ["id", "code", "flag"], piece=100)

    assert whole.status == pieces.status == "completed", (whole.error, pieces.error)
    written = Path(pieces.tasks[0].output or "").read_bytes()
    assert written == Path(whole.tasks[0].output or "").read_bytes()
    assert b"\nr0,007,true," in written


def test_a_feature_the_output_leaves_out_is_read_again_when_its_type_changes(tmp_path: Path) -> None:
    data = _readings(600).drop(columns="site")
    data["n"] = data["n"].astype("Int64")  # written as whole numbers
    data.loc[590, "n"] = pd.NA  # until the last piece: floats to the model, in a whole read

    whole = _run(tmp_path, "whole", data, "csv", "csv", ["id"], piece=0)
    pieces = _run(tmp_path, "pieces", data, "csv", "csv", ["id"], piece=100)

    assert Path(pieces.tasks[0].output or "").read_bytes() == Path(whole.tasks[0].output or "").read_bytes()
    assert "reading again with 'n' to float64" in _log(pieces)


def test_text_that_starts_empty_is_written_to_parquet_in_pieces_not_read_whole(tmp_path: Path) -> None:
    data = _readings(600).drop(columns="site")
    data["note"] = [None] * 150 + ["seen"] * 450

    whole = _run(tmp_path, "whole", data, "csv", "parquet", ["id", "note"], piece=0)
    pieces = _run(tmp_path, "pieces", data, "csv", "parquet", ["id", "note"], piece=100)

    pd.testing.assert_frame_equal(
        pd.read_parquet(pieces.tasks[0].output or ""), pd.read_parquet(whole.tasks[0].output or "")
    )
    assert "reading the input whole" not in _log(pieces) and "piece(s)" in _log(pieces)


@pytest.mark.parametrize("block", [4, 5, 1 << 20])
@pytest.mark.parametrize(
    ("text", "ids"),
    [
        (b"\n\r\nid,x\r\n1,a\n\n2,b\n\r\n3,c\n4,d\n\n\n5,e\n", [[1, 2], [3, 4], [5]]),  # blank lines
        (b'\xef\xbb\xbf"id","x"\n  \n1,a\n\t\r\n2,b\n3,c\n   \n', [[1, 2], [3]]),  # a BOM, lines of spaces
    ],
)
def test_lines_pandas_skips_are_not_rows_when_a_csv_file_is_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int, text: bytes, ids: list[list[int]]
) -> None:
    monkeypatch.setattr(datasets, "CSV_SCAN_BYTES", block)
    (tmp_path / "in.csv").write_bytes(text)
    path = str(tmp_path / "in.csv")

    parts = datasets.csv_parts(path, 2)

    pieces = [datasets.read_files([path], "csv", str(tmp_path), part=part) for part in parts]
    assert [p["id"].tolist() for p in pieces] == ids
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), pd.read_csv(path))


def test_a_double_quote_inside_an_unquoted_field_is_refused_with_where_it_is(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_bytes(b'id,note\n1,12" pipe\n2,"a\nb"\n3,x\n')

    with pytest.raises(datasets.InvalidInputError, match="byte 12 is a double quote inside an unquoted field"):
        datasets.csv_parts(str(tmp_path / "in.csv"), 1)
    (tmp_path / "ok.csv").write_bytes(b'id,note\n1,"say ""hi"", twice"\n2,""\n3,x\n')
    assert len(datasets.csv_parts(str(tmp_path / "ok.csv"), 1)) == 3


def test_two_inputs_that_would_be_written_under_one_name_fail_the_run_with_both(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    _readings(10).drop(columns="site").to_csv(source / "a.csv", index=False)
    _readings(10).drop(columns="site").to_csv(source / "a.csv.gz", index=False)
    _run(tmp_path, "x", _readings(5).drop(columns="site"), "csv", "csv", ["id"], piece=0)  # the workspace and model
    ws = Workspace(tmp_path / "ws")
    (tmp_path / "p.yaml").write_text(PIPELINE.format(input=source, keep=["id"], fmt="csv", extra=""))
    PipelineRegistry(ws).register(tmp_path / "p.yaml")

    run = RunExecutor(ws).execute(RunRegistry(ws).create("p", workers=1).id)
    ws.close()

    assert run.status == "failed"
    assert "'a.csv' and 'a.csv.gz' would both be written as 'a.csv'" in (run.error or "")


def test_a_column_widened_to_object_keeps_the_values_pandas_parsed(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("a,k\nTrue,1\nFalse,1\nTrue,1\n,1\n")
    path = str(tmp_path / "in.csv")

    pieces = list(datasets.iter_frames([path], "csv", str(tmp_path), rows=2, dtypes={"a": np.dtype(object)}))

    assert pd.concat(pieces, ignore_index=True)["a"].tolist()[:3] == [True, False, True]
