"""Prometheus metrics of one scoring service, in a registry of its own (so several apps in one process, as in
tests, do not collide). Names follow what peers use: ``*_requests_total``, ``*_request_duration_seconds``..."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Latency buckets from 0.5 ms to 30 s: scoring spans sub-millisecond tabular models to slow scripts.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class ServiceMetrics:
    def __init__(self) -> None:
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
            "modelport_requests_in_progress", "Requests being handled now.", registry=self.registry
        )
        self.load_seconds = Gauge(
            "modelport_model_load_seconds",
            "Time it took to load each model version (init() included).",
            ["model", "version"],
            registry=self.registry,
        )
        self.ready = Gauge("modelport_ready", "1 once every model is loaded, else 0.", registry=self.registry)

    def observe(self, model: str, version: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(model, version, route, str(status)).inc()
        self.latency.labels(model, route).observe(seconds)

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
