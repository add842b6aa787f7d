"""Output files are flushed to the disk before they are moved into place; logs (``sync=False``) are not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelport.batch import datasets


@pytest.mark.parametrize(("sync", "fsyncs"), [(True, 1), (False, 0)])
def test_written_whole_with_or_without_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sync: bool, fsyncs: int
) -> None:
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    target = tmp_path / "out" / "a.log"

    datasets.write_bytes(str(target), b"hello", sync=sync)

    assert target.read_bytes() == b"hello"
    assert len(calls) == fsyncs
    assert [p.name for p in target.parent.iterdir()] == ["a.log"]  # no temporary file left


def test_discard_partials_removes_what_killed_writers_left_and_nothing_else(tmp_path: Path) -> None:
    kept = [tmp_path / n for n in ("a.csv", "sub/b.csv", ".c.csv.partial", ".d.csv.xyz.partial")]
    left = [tmp_path / f".a.csv.{'1' * 32}.partial", tmp_path / "sub" / f".b.csv.{'f' * 32}.partial"]
    for path in kept + left:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")

    assert datasets.discard_partials(str(tmp_path)) == 2

    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == sorted(kept)
    assert datasets.discard_partials(str(tmp_path / "nowhere")) == 0
    assert datasets.discard_partials("memory://modelport-test/outputs") == 0  # no partials on other stores


def test_a_killed_writer_leaves_a_name_discard_partials_knows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def killed(src: object, dst: object) -> None:
        raise KeyboardInterrupt  # stands for the process dying between the write and the rename

    target = tmp_path / "out.csv"
    monkeypatch.setattr(os, "replace", killed)
    monkeypatch.setattr(Path, "unlink", lambda self, missing_ok=False: None)  # a dead process cleans up nothing
    with pytest.raises(KeyboardInterrupt):
        datasets.write_bytes(str(target), b"rows")
    monkeypatch.undo()

    assert datasets.discard_partials(str(tmp_path)) == 1
    assert list(tmp_path.iterdir()) == []


def test_discard_partials_leaves_files_written_to_lately_when_asked(tmp_path: Path) -> None:
    """fail_stale's sweep: an executor thought dead may still be writing; only files idle that long go."""
    import time

    fresh, idle = tmp_path / f".a.csv.{'1' * 32}.partial", tmp_path / f".b.csv.{'2' * 32}.partial"
    fresh.write_bytes(b"x")
    idle.write_bytes(b"x")
    long_ago = time.time() - 600
    os.utime(idle, (long_ago, long_ago))

    assert datasets.discard_partials(str(tmp_path), idle_s=120) == 1
    assert [p.name for p in tmp_path.iterdir()] == [fresh.name]
