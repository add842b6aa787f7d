"""Fixtures of the ingest tests: settings on a temporary output and state folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelport.batch.ingest import IngestSettings

MakeSettings = Callable[..., IngestSettings]


@pytest.fixture
def make_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeSettings:
    for name in [k for k in os.environ if k.startswith("MODELPORT_INGEST_")]:
        monkeypatch.delenv(name)

    def make(**overrides: Any) -> IngestSettings:
        values: dict[str, Any] = {"output": str(tmp_path / "out"), "state_dir": tmp_path / "state", "grace_s": 0}
        return IngestSettings(**(values | overrides))

    return make
