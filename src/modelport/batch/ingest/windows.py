"""Fixed time windows: the open ones, the readings they hold, and what a closed one adds up to.

A window is ``[start, start + length)`` in microseconds since the Unix epoch, aligned to the epoch. Each open window
keeps its readings by ``(Device, Tag)`` and ``TS``, so that a reading delivered twice (an MQTT redelivery, an HTTP
retry) counts once, and the sums do not depend on the order readings came in (``math.fsum``): a window rebuilt from
the write-ahead log after a restart adds up to exactly what it would have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .readings import Reading


@dataclass(frozen=True, slots=True)
class Row:
    """One device and sensor in one closed window."""

    start_us: int
    device: str
    tag: str
    mean: float
    min: float
    max: float
    count: int


@dataclass(slots=True)
class ClosedWindow:
    start_us: int
    length_us: int
    rows: list[Row]

    @property
    def readings(self) -> int:
        return sum(r.count for r in self.rows)


@dataclass(slots=True)
class _Window:
    series: dict[tuple[str, str], dict[int, float]] = field(default_factory=dict)


class OpenWindows:
    """The windows that still take readings. Not thread-safe: the ingester holds its lock around it."""

    def __init__(self, length_us: int) -> None:
        self.length_us = length_us
        self._windows: dict[int, _Window] = {}

    def start_of(self, ts_us: int) -> int:
        return ts_us - ts_us % self.length_us

    def known(self, reading: Reading) -> float | None:
        """The value this sensor already has at this TS, if any."""
        window = self._windows.get(self.start_of(reading.ts_us))
        series = window.series.get((reading.device, reading.tag)) if window else None
        return series.get(reading.ts_us) if series else None

    def add(self, reading: Reading) -> None:
        """Add a reading (a later one for the same sensor and TS replaces it: check ``known`` first)."""
        window = self._windows.setdefault(self.start_of(reading.ts_us), _Window())
        window.series.setdefault((reading.device, reading.tag), {})[reading.ts_us] = reading.value

    def starts(self) -> list[int]:
        return sorted(self._windows)

    def __len__(self) -> int:
        return len(self._windows)

    def readings(self) -> int:
        return sum(len(v) for w in self._windows.values() for v in w.series.values())

    def pop_before(self, boundary_us: int) -> list[ClosedWindow]:
        """Close every window that starts before ``boundary_us``, oldest first."""
        closed = []
        for start in sorted(s for s in self._windows if s < boundary_us):
            window = self._windows.pop(start)
            rows = [
                Row(
                    start,
                    device,
                    tag,
                    math.fsum(values.values()) / len(values),
                    min(values.values()),
                    max(values.values()),
                    len(values),
                )
                for (device, tag), values in sorted(window.series.items())
            ]
            closed.append(ClosedWindow(start, self.length_us, rows))
        return closed
