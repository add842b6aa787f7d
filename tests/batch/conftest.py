"""A workspace with the IoT example's 15 sensor models and its pipeline, and a smaller copy of its readings."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from modelport import Workspace
from modelport.batch import PipelineRegistry

ROOT = Path(__file__).resolve().parents[2]
READINGS = ROOT / "examples" / "data" / "sensor_data.csv"
PIPELINE = ROOT / "examples" / "iot" / "pipeline.yaml"


def _train_module() -> Any:
    spec = importlib.util.spec_from_file_location("iot_train", ROOT / "examples" / "iot" / "train.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def readings() -> pd.DataFrame:
    return pd.read_csv(READINGS)


@pytest.fixture(scope="session")
def sensor_models(readings: pd.DataFrame) -> dict[tuple[int, int], object]:
    models: dict[tuple[int, int], object] = _train_module().train(readings)
    return models


def register_sensors(
    ws: Workspace, models: dict[tuple[int, int], object], skip: frozenset[tuple[int, int]] = frozenset()
) -> None:
    for (device, tag), model in models.items():
        if (device, tag) not in skip:
            ws.models.register(f"sensor-{device}-{tag}", obj=model, framework="sklearn")


@pytest.fixture
def iot(tmp_path: Path, db_url: str, sensor_models: dict[tuple[int, int], object]) -> Iterator[Workspace]:
    """A workspace (each backend) with the 15 models and the pipeline registered; runs start in ``tmp_path``."""
    ws = Workspace(tmp_path / "ws", db_url=db_url)
    register_sensors(ws, sensor_models)
    PipelineRegistry(ws).register(PIPELINE)
    yield ws
    ws.close()
