"""Models for the batch tests, importable by spawned workers (they unpickle them by module path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class FlakyModel:
    """Fails its first ``failures`` predictions (counted in files under ``marker_dir``, shared by every worker
    process), then answers twice its input."""

    def __init__(self, marker_dir: Path, failures: int = 1) -> None:
        self.marker_dir = str(marker_dir)
        self.failures = failures

    def predict(self, x: Any) -> Any:
        done = sorted(Path(self.marker_dir).glob("failed-*"))
        if len(done) < self.failures:
            (Path(self.marker_dir) / f"failed-{len(done)}").touch()
            raise RuntimeError("a transient fault (the test's flaky model)")
        return np.asarray(x, dtype=float)[:, 0] * 2


class SlowModel:
    """Answers zeros, taking ``delay_s`` a prediction: a task long enough for its progress to be seen."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    def predict(self, x: Any) -> Any:
        import time

        time.sleep(self.delay_s)
        return np.zeros(len(x), dtype=int)
