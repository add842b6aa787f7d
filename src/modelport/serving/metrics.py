"""Prometheus metrics of one scoring service, in a registry of its own (so several apps in one process, as in
tests, do not collide). Names follow what peers use: ``*_requests_total``, ``*_request_duration_seconds``...

With several worker processes, each worker keeps its values in files of a folder they share (prometheus_client's
multiprocess mode, switched on in each worker by ``use_multiprocess`` before its metrics are made), and ``/metrics``,
whichever worker answers it, adds up all of them: counts and histograms summed over the workers (those that died
included), requests in progress summed over the live ones, readiness the lowest of the live ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

# Latency buckets from 0.5 ms to 30 s: scoring spans sub-millisecond tabular models to slow scripts.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
QUEUE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def use_multiprocess(directory: str) -> None:
    """Keep this process's metric values in files under ``directory`` from now on: call it in each worker process,
    after the fork and before any of its metrics are made."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory  # where prometheus_client's file values look
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


def worker_gone(directory: str, pid: int) -> None:
    """A worker has exited: its live gauges (in progress, ready) no longer count; its counts still do."""
    mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


class ServiceMetrics:
    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "modelport_requests",
            "Requests handled, by model, version, route and status code.",
            ["model", "version", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "modelport_request_duration_seconds",
            "Time to handle a request, by model and route.",
            ["model", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "modelport_requests_in_progress",
            "Requests being handled now.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.load_seconds = Gauge(
            "modelport_model_load_seconds",
            "Time it took to load each model version (init() included).",
            ["model", "version"],
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.ready = Gauge(
            "modelport_ready",
            "1 once every model is loaded, else 0.",
            registry=self.registry,
            multiprocess_mode="livemin",
        )
        self.batch_rows = Histogram(
            "modelport_batch_size",
            "Rows scored together in one call to the model, by model and version.",
            ["model", "version"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.queue_wait = Histogram(
            "modelport_batch_queue_seconds",
            "Time a request waited in its model's batching queue before being scored.",
            ["model", "version"],
            buckets=QUEUE_BUCKETS,
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, model: str, version: str, route: str, status: int, seconds: float) -> None:
        key = (model, version, route, status)
        children = self._children.get(key)
        if children is None:  # labels() looks the child up by its label values: once per key, not per request
            children = self._children[key] = (
                self.requests.labels(model, version, route, str(status)),
                self.latency.labels(model, route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def batch_observer(self, model: str, version: str) -> Callable[[int, list[float]], None]:
        """What a model's batcher calls after each batch: its rows, and how long each request waited."""
        rows, wait = self.batch_rows.labels(model, version), self.queue_wait.labels(model, version)

        def observe(size: int, waits: list[float]) -> None:
            rows.observe(size)
            for seconds in waits:
                wait.observe(seconds)

        return observe

    def loaded(self, ready: bool, models: Sequence[Any]) -> None:
        """Readiness, and each served model's load time (``ServedModel``s)."""
        self.ready.set(1 if ready else 0)
        for model in models:
            self.load_seconds.labels(model.name, str(model.version)).set(model.load_seconds)

    def render(self) -> bytes:
        if self.multiprocess_dir is None:
            return bytes(generate_latest(self.registry))
        combined = CollectorRegistry()
        combined.register(_WorkerFiles(self.multiprocess_dir))
        return bytes(generate_latest(combined))


class _WorkerFiles:
    """prometheus_client's multiprocess collector, minus two races it loses (client_python #425 and #1199): a
    starting worker's file exists at 0 bytes before it is sized, and a gone worker's gauge file can be removed
    between listing the folder and reading it. An empty file holds nothing yet and is skipped; a file that vanished
    is listed again."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def collect(self) -> Any:
        for attempt in range(3):
            files = [str(p) for p in Path(self.directory).glob("*.db") if _size(p) > 0]
            try:
                return MultiProcessCollector.merge(files, accumulate=True)  # type: ignore[no-untyped-call]
            except FileNotFoundError:
                if attempt == 2:
                    raise
        return []


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
