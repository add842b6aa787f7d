"""Window files: where they go, written whole or not at all, and the same file again for the same window."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pytest

from modelport.batch.ingest.sink import ParquetSink, window_path
from modelport.batch.ingest.windows import ClosedWindow, Row

START = 1535497200 * 1_000_000  # 2018-08-28 23:00:00 UTC
MINUTE = 60_000_000


def _window(mean: float = 10.5, start: int = START) -> ClosedWindow:
    return ClosedWindow(
        start, MINUTE, [Row(start, "1", "1", mean, 10.0, 11.0, 2), Row(start, "1", "2", 35.0, 35, 35, 1)]
    )


def test_one_file_per_window_under_its_date() -> None:
    assert window_path(START, MINUTE) == "date=2018-08-28/20180828T230000Z-1m.parquet"
    assert window_path(START + 3600_000_000, 3600_000_000) == "date=2018-08-29/20180829T000000Z-1h.parquet"


def test_writing_a_window_again_replaces_its_file(tmp_path: Path) -> None:
    sink = ParquetSink(str(tmp_path))
    sink.write(_window(10.5))
    sink.write(_window(10.75))
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["20180828T230000Z-1m.parquet"]
    frame = pd.read_parquet(tmp_path)
    assert frame["Value"].tolist() == [10.75, 35.0]
    assert str(frame["TS"].dtype) == "datetime64[us, UTC]"
    assert frame["Count"].tolist() == [2, 1]


def test_a_reader_never_sees_a_window_being_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = ParquetSink(str(tmp_path))
    sink.write(_window(start=START - MINUTE))
    seen: list[int] = []
    replace = os.replace

    def look_then_move(src: Any, dst: Any) -> None:  # the file is complete, under its temporary name
        assert Path(src).name.startswith(".") and not str(src).endswith(".parquet")
        seen.append(len(pd.read_parquet(tmp_path)))
        replace(src, dst)

    monkeypatch.setattr(os, "replace", look_then_move)
    sink.write(_window())
    assert seen == [2]  # only the earlier window's rows, none of the one being written
    assert len(pd.read_parquet(tmp_path)) == 4


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        ParquetSink(str(tmp_path)).write(_window())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_any_fsspec_store() -> None:
    sink = ParquetSink("memory://ingest-test/out")
    path = sink.write(_window())
    fs = fsspec.filesystem("memory")
    assert fs.ls("/ingest-test/out/date=2018-08-28", detail=False) == [path]
    with fs.open(path, "rb") as data:
        assert pd.read_parquet(data)["Device"].tolist() == ["1", "1"]
