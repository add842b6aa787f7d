"""The workers' metric files: what /metrics adds up survives a worker caught starting (its file still empty)."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, values

from modelport.serving.metrics import ServiceMetrics, use_multiprocess


def test_an_empty_file_of_a_starting_worker_is_skipped(tmp_path: Path) -> None:
    saved = values.ValueClass
    try:
        use_multiprocess(str(tmp_path))
        counter = Counter("jobs", "jobs done", registry=CollectorRegistry())
        counter.inc(3)
        (tmp_path / "counter_999999.db").write_bytes(b"")  # created, not yet sized

        page = ServiceMetrics(multiprocess_dir=str(tmp_path)).render().decode()
    finally:
        values.ValueClass = saved
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

    assert "jobs_total 3.0" in page
