"""Ingestion of sensor readings: MQTT messages and HTTP posts in, fixed-window aggregates out as partitioned
Parquet, with a write-ahead log so that a restart loses no acknowledged reading and writes no window twice.

One concept per module: ``readings`` (parsing and validation), ``windows`` (aggregation), ``wal`` (the state
folder: log and closed windows), ``sink`` (Parquet on fsspec), ``rejected`` (readings set aside), ``mqtt`` (the
broker), ``service`` (the ``Ingester`` that ties them together), ``settings``. The HTTP endpoint is
``modelport.web.ingest``; the command is ``modelport ingest``.
"""

from .readings import Reading, Reason, Rejection, parse_payload
from .service import Ingester, Outcome, Stats
from .settings import IngestSettings, parse_duration

__all__ = [
    "IngestSettings",
    "Ingester",
    "Outcome",
    "Reading",
    "Reason",
    "Rejection",
    "Stats",
    "parse_duration",
    "parse_payload",
]
