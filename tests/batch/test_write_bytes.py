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
