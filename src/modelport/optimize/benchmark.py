"""In-process timing of the original and its ONNX version, through the runtimes that serve them.

Each round times one call of each, in alternating order, so that a noisy neighbour on a shared machine slows both
alike; the median of the rounds is reported, for a one-row request and for a batch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from statistics import median
from typing import Any

from ..runtimes import Runtime

REPEAT = 200
WARMUP = 5
BATCH_ROWS = 64


@dataclass(frozen=True)
class Timing:
    """Median microseconds per ``predict`` call: one row and a batch of ``batch_rows``."""

    original_one_us: float
    onnx_one_us: float
    original_batch_us: float
    onnx_batch_us: float
    batch_rows: int
    repeat: int

    @property
    def speedup_one(self) -> float:
        return self.original_one_us / self.onnx_one_us if self.onnx_one_us > 0 else float("inf")

    @property
    def speedup_batch(self) -> float:
        return self.original_batch_us / self.onnx_batch_us if self.onnx_batch_us > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {
            "original_one_row_us": round(self.original_one_us, 1),
            "onnx_one_row_us": round(self.onnx_one_us, 1),
            "speedup_one_row": round(self.speedup_one, 2),
            "original_batch_us": round(self.original_batch_us, 1),
            "onnx_batch_us": round(self.onnx_batch_us, 1),
            "speedup_batch": round(self.speedup_batch, 2),
            "batch_rows": self.batch_rows,
            "repeat": self.repeat,
        }


def _medians(a: Runtime, b: Runtime, payload: Any, repeat: int) -> tuple[float, float]:
    for _ in range(WARMUP):
        a.predict(payload)
        b.predict(payload)
    times: tuple[list[float], list[float]] = ([], [])
    for round_ in range(repeat):
        order = ((0, a), (1, b)) if round_ % 2 == 0 else ((1, b), (0, a))
        for index, runtime in order:
            started = time.perf_counter()
            runtime.predict(payload)
            times[index].append(time.perf_counter() - started)
    return median(times[0]) * 1e6, median(times[1]) * 1e6


def benchmark(original: Runtime, onnx: Runtime, one_row: Any, batch: Any, batch_rows: int, repeat: int) -> Timing:
    """Time ``predict`` of both runtimes on ``one_row`` and on ``batch`` (``repeat`` rounds each)."""
    original_one, onnx_one = _medians(original, onnx, one_row, repeat)
    original_batch, onnx_batch = _medians(original, onnx, batch, repeat)
    return Timing(original_one, onnx_one, original_batch, onnx_batch, batch_rows, repeat)
