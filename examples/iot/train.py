"""Train and register the IoT example's 15 anomaly models: one per device and sensor.

    python examples/iot/train.py [--workspace HOME] [--data CSV] [--json]

Each sensor's model is ``StandardScaler`` + ``OneClassSVM(nu=0.0001, kernel="rbf", gamma=0.01)`` fitted on that
sensor's first 300 values (the readings are in time order), registered as ``sensor-{Device}-{Tag}`` with the
device and sensor as tags. ``predict`` answers 1 for a normal reading and -1 for an anomaly; the pipeline beside
this file writes 0 and 1 for them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from modelport import Workspace

HERE = Path(__file__).resolve().parent
DATA_FILE = HERE.parent / "data" / "sensor_data.csv"
TRAINING_ROWS = 300


def train(frame: pd.DataFrame) -> dict[tuple[int, int], object]:
    """One fitted model per (Device, Tag), on its first ``TRAINING_ROWS`` values in time order."""
    models = {}
    for (device, tag), readings in frame.sort_values("TS", kind="stable").groupby(["Device", "Tag"], sort=True):
        values = readings["Value"].to_numpy()[:TRAINING_ROWS].reshape(-1, 1)
        model = make_pipeline(StandardScaler(), OneClassSVM(nu=0.0001, kernel="rbf", gamma=0.01))
        models[(int(device), int(tag))] = model.fit(values)
    return models


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=None, help="workspace folder (default: .modelport or $MODELPORT_HOME)")
    parser.add_argument("--data", default=str(DATA_FILE), help="the readings, CSV with TS,Device,Tag,Value")
    parser.add_argument("--json", action="store_true", help="print the registered versions as JSON")
    args = parser.parse_args(argv)

    frame = pd.read_csv(args.data)
    registered = []
    with Workspace(args.workspace) as ws:
        for (device, tag), model in train(frame).items():
            sample = frame[(frame.Device == device) & (frame.Tag == tag)]["Value"].head(3).to_numpy().reshape(-1, 1)
            version = ws.models.register(
                f"sensor-{device}-{tag}",
                obj=model,
                framework="sklearn",
                tags={"device": str(device), "sensor": str(tag), "example": "iot"},
                description=f"One-class SVM of device {device}, sensor {tag}: 1 normal, -1 anomaly",
                sample_input=sample.tolist(),
            )
            registered.append(version.ref)
    if args.json:
        print(json.dumps({"registered": registered}))
    else:
        print(f"registered {len(registered)} models: {', '.join(registered)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
