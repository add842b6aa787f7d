"""Helpers of the ingest tests: a slice of the real sensor data, readings as payloads, the output read back, and
what pandas says the windows add up to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pandas as pd

SENSOR_CSV = Path(__file__).resolve().parents[4] / "shared" / "data" / "sensor_data.csv"


def sensor_slice(rows: int) -> pd.DataFrame:
    """The first ``rows`` readings of the real sensor data (3 devices x 5 sensors, a reading every 5 s)."""
    return pd.read_csv(SENSOR_CSV, nrows=rows)


def readings(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as readings, the way a device sends them: TS as text, Device and Tag as integers."""
    return [
        {"TS": ts, "Device": int(device), "Tag": int(tag), "Value": float(value)}
        for ts, device, tag, value in frame[["TS", "Device", "Tag", "Value"]].itertuples(index=False)
    ]


def payload(items: Any) -> bytes:
    return orjson.dumps(items)


def expected_windows(frame: pd.DataFrame, window: str = "1min") -> pd.DataFrame:
    """Mean, min, max and count per window, device and sensor, by pandas."""
    data = frame.assign(
        TS=pd.to_datetime(frame["TS"], utc=True).dt.floor(window),
        Device=frame["Device"].astype(str),
        Tag=frame["Tag"].astype(str),
    )
    grouped = data.groupby(["TS", "Device", "Tag"])["Value"].agg(["mean", "min", "max", "count"]).reset_index()
    grouped.columns = ["TS", "Device", "Tag", "Value", "Min", "Max", "Count"]
    return grouped.sort_values(["TS", "Device", "Tag"]).reset_index(drop=True)


def read_output(output: Path) -> pd.DataFrame:
    """Every window file under the output, as the pipeline reads it (hive partitions), in a stable order."""
    frame = pd.read_parquet(output)
    columns = ["TS", "Device", "Tag", "Value", "Min", "Max", "Count"]
    return frame[columns].astype({"Device": str, "Tag": str}).sort_values(columns[:3]).reset_index(drop=True)


def window_files(output: Path) -> list[Path]:
    return sorted(output.rglob("*.parquet"))
