"""Closed windows to partitioned Parquet on any fsspec filesystem.

Each window is one file, ``<output>/date=YYYY-MM-DD/<start>-<length>.parquet`` (``20180828T230000Z-1m.parquet``),
with the columns ``TS`` (the window's start, UTC), ``Device``, ``Tag``, ``Value`` (the mean), ``Min``, ``Max`` and
``Count``. The name depends on the window only, so writing a window again (after a crash, before its closing was
recorded) replaces the file instead of adding a second one. A file is written under a temporary name starting with a
dot (which dataset readers skip) and then moved into place, so a reader never sees half of one; on a local disk it
is fsynced before the move.
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ...errors import InvalidInputError, MissingDependencyError
from .settings import format_duration
from .wal import fsync_dir
from .windows import ClosedWindow


def _arrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingDependencyError("pyarrow", "batch", "writing Parquet") from exc
    return pa, pq


def window_path(start_us: int, length_us: int) -> str:
    """The file of one window, relative to the output."""
    start = datetime.fromtimestamp(start_us / 1_000_000, tz=UTC)
    return f"date={start:%Y-%m-%d}/{start:%Y%m%dT%H%M%S}Z-{format_duration(length_us / 1_000_000)}.parquet"


class ParquetSink:
    """Writes closed windows under one output URL (a local folder or any fsspec URL)."""

    def __init__(self, url: str) -> None:
        import fsspec.core

        try:
            self.fs, self.root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:
            raise InvalidInputError(f"cannot open the output {url}: {exc}") from exc
        self.url = url
        self.local = "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))
        _arrow()

    def path(self, window: ClosedWindow) -> str:
        return f"{self.root.rstrip('/')}/{window_path(window.start_us, window.length_us)}"

    def write(self, window: ClosedWindow) -> str:
        """Write one window's file atomically; returns its path."""
        pa, pq = _arrow()
        rows = window.rows
        table = pa.table(
            {
                "TS": pa.array([r.start_us for r in rows], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                "Device": pa.array([r.device for r in rows], pa.string()),
                "Tag": pa.array([r.tag for r in rows], pa.string()),
                "Value": pa.array([r.mean for r in rows], pa.float64()),
                "Min": pa.array([r.min for r in rows], pa.float64()),
                "Max": pa.array([r.max for r in rows], pa.float64()),
                "Count": pa.array([r.count for r in rows], pa.int64()),
            }
        )
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        final = self.path(window)
        folder, name = final.rsplit("/", 1)
        tmp = f"{folder}/.{name}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            if self.local:
                Path(folder).mkdir(parents=True, exist_ok=True)
                with open(tmp, "wb") as out:
                    out.write(buffer.getvalue())
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, final)
                fsync_dir(Path(folder))
            else:
                self.fs.makedirs(folder, exist_ok=True)
                with self.fs.open(tmp, "wb") as out:
                    out.write(buffer.getvalue())
                self.fs.mv(tmp, final)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm_file(tmp)
            raise
        return final
