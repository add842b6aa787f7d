"""Readings set aside: one JSON line each, in ``<state>/rejected/YYYY-MM-DD.jsonl`` (by the day they came, UTC)::

    {"received": "2026-12-02T03:04:05.123456Z", "source": "mqtt:sensors/1", "index": 0,
     "reason": "non_numeric_value", "detail": "Value must be a number, not a string", "reading": {...}}

``reading`` is the reading as it came (the text, for a payload that was not JSON). Lines are fsynced before the
payload is acknowledged, like accepted readings.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import orjson

from .readings import Rejection


class RejectedLog:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def write(self, rejections: Sequence[Rejection], source: str) -> None:
        if not rejections:
            return
        now = datetime.now(UTC)
        received = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        lines = b"".join(
            orjson.dumps(
                {
                    "received": received,
                    "source": source,
                    "index": r.index,
                    "reason": r.reason,
                    "detail": r.detail,
                    "reading": r.raw,
                },
                default=str,
            )
            + b"\n"
            for r in rejections
        )
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f"{now:%Y-%m-%d}.jsonl", "ab") as out:
            out.write(lines)
            out.flush()
            os.fsync(out.fileno())
