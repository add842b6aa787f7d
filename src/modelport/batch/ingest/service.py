"""The ingester: readings in, windows out, with a write-ahead log in between.

``submit(payload, source)`` parses a payload (one MQTT message or HTTP body) and returns once every reading in it is
either in the fsynced log or set aside with its reason: the caller acknowledges only then. Windows close by event
time: a window ``[start, end)`` is written once a reading with ``TS >= end + grace`` has come (or, with
``idle_close_s``, once no reading has come for that long). Closing a window writes its Parquet file, then records in
``state.json`` that it is written, then deletes the log segments that only it needed. A crash anywhere in between
writes the same file again on restart, never a second one.

Thread-safe: the MQTT loop and the HTTP threads call ``submit`` at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...errors import UnavailableError
from .readings import Reading, Reason, Rejection, format_ts, parse_payload
from .rejected import RejectedLog
from .settings import IngestSettings
from .sink import ParquetSink
from .wal import StateFolder
from .windows import ClosedWindow, OpenWindows

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Outcome:
    """What became of one payload."""

    accepted: int
    duplicates: int
    rejected: list[Rejection]
    is_list: bool
    position: int = 0  # how far the log must be durable for this payload (``Ingester.sync``)

    @property
    def wholly_bad(self) -> bool:
        """Not a list, and nothing in it taken: invalid JSON, an empty list, or one bad reading."""
        return not self.is_list and not self.accepted and not self.duplicates

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [{"index": r.index, "reason": r.reason, "detail": r.detail} for r in self.rejected],
        }


@dataclass
class Stats:
    """Counts since this ingester started."""

    accepted: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    replayed: int = 0
    windows_written: int = 0
    rows_written: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": sum(self.rejected.values()),
            "rejected_by_reason": dict(sorted(self.rejected.items())),
            "replayed": self.replayed,
            "windows_written": self.windows_written,
            "rows_written": self.rows_written,
        }


class Ingester:
    """Aggregates readings into windows written by ``sink`` (default: Parquet under ``settings.output``)."""

    def __init__(self, settings: IngestSettings, sink: ParquetSink | None = None) -> None:
        self.settings = settings
        self.window_us = int(settings.window_s) * 1_000_000
        self.grace_us = round(settings.grace_s * 1_000_000)
        self.sink = sink or ParquetSink(settings.output)
        self.stats = Stats()
        self.windows = OpenWindows(self.window_us)
        self._lock = threading.Lock()  # the open windows, the log's active segment, the counts
        self._write_lock = threading.Lock()  # one closing at a time, in order
        self._pending: list[ClosedWindow] = []  # closed, not yet written (a write failed: retried at next flush)
        self._broken: str | None = None  # why readings are refused: an fsync of the log failed
        self.state = StateFolder(settings.state_dir, self.window_us, settings.output)
        try:
            self.rejected_log = RejectedLog(settings.state_dir / "rejected")
            self._closing_before = self.state.state.closed_before_us
            self._max_ts = self.state.state.max_ts_us
            self._replay()
            self._last_reading = time.monotonic()
            self.flush()
        except BaseException:
            self.state.close()
            raise

    def _replay(self) -> None:
        closed = self._closing_before
        for reading in self.state.replay():
            if closed is not None and reading.ts_us < closed:
                continue  # its window is written; the segment outlived it by a crash before compaction
            if self.windows.known(reading) is None:
                self.windows.add(reading)
                self.stats.replayed += 1
            self._max_ts = max(self._max_ts or reading.ts_us, reading.ts_us)
        if self.stats.replayed:
            logger.info("replayed %d readings into %d open windows", self.stats.replayed, len(self.windows))

    @property
    def open_windows(self) -> int:
        return len(self.windows)

    def snapshot(self) -> dict[str, Any]:
        """The counts and the open windows, read consistently while readings come in."""
        with self._lock:
            return {"open_windows": len(self.windows), **self.stats.to_json()}

    def submit(self, payload: bytes | str, source: str, sync: bool = True) -> Outcome:
        """Take one payload; returns once it is durable (logged or set aside). Raises only when the log or the
        rejected file cannot be written (the payload must then not be acknowledged). With ``sync=False`` it returns
        once the readings are written, not yet durable: ``sync(outcome.position)`` makes them so, and one call
        covers many payloads (the MQTT source syncs once per batch of messages)."""
        parsed = parse_payload(payload)
        return self.accept(parsed.readings, parsed.rejections, source, parsed.is_list, sync=sync)

    def sync(self, position: int) -> None:
        """Return once the log is durable up to ``position``. A failed fsync stops the ingester taking readings
        (the kernel may have dropped what it could not write, and a later fsync would not say so): restart it,
        and the log is read back as it is on the disk."""
        if self._broken is not None:
            raise UnavailableError(self._broken)
        try:
            self.state.sync(position)
        except OSError as exc:
            self._broken = f"the write-ahead log could not be synced ({exc.strerror or exc}): restart the ingester"
            raise

    def accept(
        self,
        readings: Sequence[tuple[int, Reading]],
        rejections: Sequence[Rejection] = (),
        source: str = "",
        is_list: bool = True,
        sync: bool = True,
    ) -> Outcome:
        """Take readings (with their index in the payload) and rejections already found."""
        if self._broken is not None:
            raise UnavailableError(self._broken)
        rejected = list(rejections)
        new: list[Reading] = []
        duplicates = 0
        ahead = round((time.time() + self.settings.max_ahead_s) * 1_000_000)
        with self._lock:
            seen: dict[tuple[int, str, str], float] = {}
            for index, reading in readings:
                if reading.ts_us > ahead:
                    detail = f"TS {format_ts(reading.ts_us)} is ahead of this machine's clock by more than max_ahead_s"
                    rejected.append(Rejection(index, Reason.BAD_TIMESTAMP, detail, reading.to_json()))
                    continue
                if self._closing_before is not None and reading.ts_us < self._closing_before:
                    start = format_ts(self.windows.start_of(reading.ts_us))
                    rejected.append(Rejection(index, Reason.LATE, f"its window {start} is written", reading.to_json()))
                    continue
                key = (reading.ts_us, reading.device, reading.tag)
                known = seen.get(key, self.windows.known(reading))
                if known is None:
                    seen[key] = reading.value
                    new.append(reading)
                elif known == reading.value:
                    duplicates += 1
                else:
                    detail = f"Device {reading.device} Tag {reading.tag} at this TS has Value {known!r} already"
                    rejected.append(Rejection(index, Reason.CONFLICT, detail, reading.to_json()))
            rejected.sort(key=lambda r: r.index)
            self.rejected_log.write(rejected, source)
            position = self.state.write(new)  # durable after sync(position), shared with concurrent writers
            for reading in new:
                self.windows.add(reading)
                self._max_ts = max(self._max_ts or reading.ts_us, reading.ts_us)
            self.stats.accepted += len(new)
            self.stats.duplicates += duplicates
            self.stats.rejected.update(r.reason for r in rejected)
            if new or duplicates:
                self._last_reading = time.monotonic()
            due = self._due()
        if sync:
            self.sync(position)  # from here on, these readings (and the duplicates' originals) survive a crash
        if due:
            try:
                self.flush()
            except Exception:  # the readings are safe in the log; the windows are written at the next flush
                logger.exception("writing closed windows failed; trying again at the next flush")
        return Outcome(len(new), duplicates, rejected, is_list, position)

    def _boundary(self, everything: bool) -> int | None:
        """Windows starting before this are due to close."""
        if self._max_ts is None:
            return None
        if everything:
            return self.windows.start_of(self._max_ts) + self.window_us
        return self.windows.start_of(self._max_ts - self.grace_us)

    def _due(self, everything: bool = False) -> bool:
        boundary = self._boundary(everything)
        return boundary is not None and (self._closing_before is None or boundary > self._closing_before)

    def flush(self, everything: bool = False) -> int:
        """Close the windows that are due (with ``everything``, all open ones), write them, record them and compact
        the log; returns how many windows were written."""
        with self._write_lock:
            with self._lock:
                if self._due(everything):
                    boundary = self._boundary(everything)
                    assert boundary is not None
                    self._pending.extend(self.windows.pop_before(boundary))
                    self._closing_before = boundary  # from here on, readings for them are late
                    self.state.rotate()
                closing_before, max_ts = self._closing_before, self._max_ts
            written = 0
            while self._pending:
                window = self._pending[0]
                path = self.sink.write(window)
                logger.info("wrote window %s: %d rows to %s", format_ts(window.start_us), len(window.rows), path)
                self._pending.pop(0)
                written += 1
                with self._lock:
                    self.stats.windows_written += 1
                    self.stats.rows_written += len(window.rows)
            if closing_before != self.state.state.closed_before_us:
                self.state.state.closed_before_us = closing_before
                self.state.state.max_ts_us = max_ts
                self.state.save_state()
                self.state.compact()
            return written

    def tick(self) -> None:
        """Called now and then: closes everything after ``idle_close_s`` without readings, retries failed writes."""
        idle = self.settings.idle_close_s
        everything = idle is not None and time.monotonic() - self._last_reading >= idle
        if everything or self._pending:
            self.flush(everything=everything)

    def close(self, drain: bool = False) -> None:
        """Write the windows that are due (with ``drain``, every open one) and release the state folder. Open
        windows stay in the log and are read back on the next start."""
        try:
            self.flush(everything=drain)
        finally:
            self.state.close()
