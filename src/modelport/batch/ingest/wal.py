"""The ingester's local state: a write-ahead log of accepted readings and a record of the windows already written.

Layout of the state folder::

    lock                 held (flock) by the one ingester that uses the folder
    state.json           the format, the window length, the output, and closed_before: every window that starts
                         before it is written (written atomically: a temporary file, fsync, rename)
    wal/000001.jsonl     log segments, one reading a line: [TS in microseconds, Device, Tag, Value]

A reading is acknowledged only once its line is written and fsynced. Writers that come at the same time share one
fsync (group commit): ``write`` appends under the ingester's lock and returns the log's position, ``sync(position)``
returns once the log is on the disk up to there, and whoever fsyncs covers every line written before it. A new
segment starts at every start and every time windows close (the old one is fsynced first); a segment whose readings
all belong to written windows is deleted. A torn last line (a crash while writing it) was never acknowledged and is
skipped when the log is read back.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from ...errors import ConflictError, InvalidInputError
from .readings import Reading

logger = logging.getLogger(__name__)

FORMAT = 1


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a reader (or a crash) sees the old content or the new, never a part."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


@dataclass
class State:
    """What ``state.json`` holds."""

    window_us: int
    output: str
    closed_before_us: int | None = None
    max_ts_us: int | None = None

    def to_json(self) -> bytes:
        return orjson.dumps({"format": FORMAT, **self.__dict__}, option=orjson.OPT_INDENT_2)


@dataclass
class _Segment:
    path: Path
    max_ts_us: int | None = None


class StateFolder:
    """The state folder of one ingester, locked for as long as it is open."""

    def __init__(self, folder: Path, window_us: int, output: str) -> None:
        self.folder = folder
        try:
            (folder / "wal").mkdir(parents=True, exist_ok=True)
            self._lock = open(folder / "lock", "a+b")  # noqa: SIM115 (held until close())
        except OSError as exc:
            raise InvalidInputError(f"cannot use the state folder {folder}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lock.close()
            raise ConflictError(f"another ingester is using the state folder {folder}") from exc
        try:
            self.state = self._read_state(window_us, output)
        except BaseException:
            self._lock.close()
            raise
        self._sealed: list[_Segment] = []
        self._active: _Segment | None = None
        self._file: IO[bytes] | None = None
        self._written = 0  # bytes written to the log since this start, over every segment
        self._synced = 0  # of which fsynced
        # one fsync at a time, and none while the active segment changes; those who wait for one are woken when it ends
        self._sync_done = threading.Condition(threading.Lock())
        self._syncing = False
        # once an fsync has failed, every later one fails too: the kernel may have dropped the pages it could not
        # write and marked them clean, so that a second fsync succeeds without them ("fsyncgate")
        self._failed: OSError | None = None

    def _read_state(self, window_us: int, output: str) -> State:
        path = self.folder / "state.json"
        if not path.exists():
            state = State(window_us, output)
            write_atomic(path, state.to_json())
            return state
        data: dict[str, Any] = orjson.loads(path.read_bytes())
        if data.get("format") != FORMAT:
            raise InvalidInputError(f"{path} has format {data.get('format')!r}; this modelport reads {FORMAT}")
        data.pop("format")
        state = State(**data)
        if state.window_us != window_us or state.output != output:
            raise InvalidInputError(
                f"the state folder {self.folder} belongs to an ingester with {state.window_us / 1e6:g}s windows "
                f"writing to {state.output}; use the same window and output, or another --state folder"
            )
        return state

    def save_state(self) -> None:
        write_atomic(self.folder / "state.json", self.state.to_json())

    # -- the log -------------------------------------------------------------------------------------------------

    def _segments(self) -> list[Path]:
        return sorted(p for p in (self.folder / "wal").glob("*.jsonl") if p.stem.isdigit())

    def replay(self) -> Iterator[Reading]:
        """Every reading in the log, in the order it was written; then a fresh segment takes new ones."""
        for path in self._segments():
            segment = _Segment(path)
            lines = path.read_bytes().split(b"\n")
            for number, line in enumerate(lines, 1):
                if not line:
                    continue
                try:
                    ts_us, device, tag, value = orjson.loads(line)
                    reading = Reading(int(ts_us), str(device), str(tag), float(value))
                except (orjson.JSONDecodeError, ValueError, TypeError):
                    where = "its last line (torn by a crash)" if number >= len(lines) - 1 else f"line {number}"
                    logger.warning("skipping %s of the write-ahead log %s", where, path)
                    continue
                segment.max_ts_us = max(segment.max_ts_us or reading.ts_us, reading.ts_us)
                yield reading
            self._sealed.append(segment)
        self._start_segment()

    def _start_segment(self) -> None:
        paths = self._segments()
        number = int(paths[-1].stem) + 1 if paths else 1
        self._active = _Segment(self.folder / "wal" / f"{number:06d}.jsonl")
        self._file = open(self._active.path, "ab")  # noqa: SIM115 (the active segment stays open)
        fsync_dir(self._active.path.parent)

    def write(self, readings: Sequence[Reading]) -> int:
        """Write readings to the log, not yet durable; returns the position that ``sync`` makes durable (the end of
        everything written so far, so that a caller that relied on readings others wrote waits for them too)."""
        if readings:
            assert self._file is not None and self._active is not None, "replay() opens the log"
            data = b"".join(orjson.dumps([r.ts_us, r.device, r.tag, r.value]) + b"\n" for r in readings)
            self._file.write(data)
            self._file.flush()  # to the OS: the fsync of whoever syncs next covers it
            self._written += len(data)
            newest = max(r.ts_us for r in readings)
            self._active.max_ts_us = max(self._active.max_ts_us or newest, newest)
        return self._written

    def sync(self, position: int) -> None:
        """Return once the log is on the disk up to ``position``. A caller that comes while another fsyncs waits for
        that fsync to end rather than for the lock: if the fsync covered its lines it returns at once, and otherwise
        the first of those still waiting fsyncs once for all of them."""
        if self._synced >= position:
            return
        with self._sync_done:
            while self._synced < position:
                if self._syncing:
                    self._sync_done.wait()
                    continue
                self._check_failed()
                self._syncing, target, synced = True, self._written, False
                self._sync_done.release()  # others write and queue up while this one is on the disk
                try:
                    self._fsync()  # every line flushed so far goes to the disk with it
                    synced = True
                finally:
                    self._sync_done.acquire()
                    self._syncing = False
                    if synced:
                        self._synced = max(self._synced, target)
                    self._sync_done.notify_all()

    def _fsync(self) -> None:
        """fsync the active segment; a failure is kept, and every later fsync fails with it."""
        assert self._file is not None
        try:
            os.fsync(self._file.fileno())
        except OSError as exc:
            self._failed = exc
            raise

    def _check_failed(self) -> None:
        if self._failed is not None:
            failed = self._failed
            raise OSError(failed.errno, f"an earlier fsync of the log failed: {failed.strerror or failed}")

    def _idle(self) -> None:
        """Wait, holding the lock, until no fsync is running (to change or close the active segment)."""
        while self._syncing:
            self._sync_done.wait()

    def rotate(self) -> None:
        """Seal the active segment and start a new one (when windows close, so that old segments can go)."""
        if self._file is None or self._active is None or self._active.max_ts_us is None:
            return
        with self._sync_done:  # no fsync of the old file while it closes
            self._idle()
            self._check_failed()
            self._fsync()
            self._synced = self._written
            self._file.close()
            self._sealed.append(self._active)
            self._start_segment()

    def compact(self) -> int:
        """Delete the sealed segments whose readings all belong to written windows; returns how many."""
        boundary = self.state.closed_before_us
        if boundary is None:
            return 0
        done = [s for s in self._sealed if s.max_ts_us is None or s.max_ts_us < boundary]
        for segment in done:
            segment.path.unlink(missing_ok=True)
            self._sealed.remove(segment)
        if done:
            fsync_dir(self.folder / "wal")
        return len(done)

    def close(self) -> None:
        with self._sync_done:
            self._idle()
            if self._file is not None:
                self._file.close()
                self._file = None
        with contextlib.suppress(OSError):
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
        self._lock.close()
