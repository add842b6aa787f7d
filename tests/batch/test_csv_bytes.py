"""``datasets.csv_bytes`` writes exactly what pandas' ``to_csv(index=False)`` writes, whichever path it takes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelport.batch import datasets

PLAIN = ["a", "sensor 7", "", " lead", "trail ", "é", "2026-12-01 00:00:05.000"]
WORDS = [*PLAIN, "x,y", 'say "hi"', "two\nlines", "cr\r"]  # the last ones need quotes


def random_column(rng: np.random.Generator, rows: int) -> Any:
    kind = rng.integers(0, 11)
    if kind == 10:  # few small values, as predictions are
        return rng.integers(-3, 4, rows) if rng.random() < 0.5 else rng.integers(0, 2**62, rows) % 5000
    if kind == 8:  # the same value all down, as a partition's own columns are
        return np.full(rows, rng.integers(-5, 5))
    if kind == 9:
        return np.array([WORDS[rng.integers(0, len(WORDS))]] * rows, dtype=object)
    if kind == 0:
        return rng.integers(-(2**62), 2**62, rows)
    if kind == 1:
        values = rng.integers(0, 2**63, rows, dtype=np.uint64).view(np.float64)  # any bit pattern
        return np.where(np.isfinite(values), values, np.nan)
    if kind == 2:
        values = np.round(rng.normal(50, 30, rows), int(rng.integers(0, 5)))
        values[rng.random(rows) < 0.1] = np.nan
        values[rng.random(rows) < 0.05] = np.inf
        return values
    if kind == 3:
        return rng.normal(0, 1, rows).astype(np.float32)
    if kind == 4:
        return rng.random(rows) < 0.5
    if kind == 5:
        return rng.integers(0, 256, rows).astype(np.uint8)
    words = PLAIN if kind == 6 else WORDS
    values = np.array([words[i] for i in rng.integers(0, len(words), rows)], dtype=object)
    values[rng.random(rows) < 0.1] = None
    return values


@pytest.mark.parametrize("seed", range(100))
def test_random_columns_match_pandas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = int(rng.choice([0, 1, 7, 300]))
    columns = {f"c{i}": random_column(rng, rows) for i in range(int(rng.integers(1, 6)))}

    assert datasets.csv_bytes(columns) == pd.DataFrame(columns).to_csv(index=False).encode()


@pytest.mark.parametrize(
    "columns",
    [
        {"only": np.array(["", "a", None], dtype=object)},  # one column: the csv module quotes an empty field
        {"a,b": np.arange(3), "c": np.arange(3)},  # a name that needs quotes
        {"when": pd.date_range("2026-12-01", periods=3, freq="5s").to_numpy(), "v": np.arange(3.0)},
        {"when": pd.date_range("2026-12-01", periods=3, tz="UTC").array, "v": np.arange(3)},
        {"n": pd.array([1, None, 3], dtype="Int64"), "v": np.arange(3)},
        {"mixed": np.array([1, 2.5, "x", None, float("nan"), True], dtype=object), "v": np.arange(6)},
        {"obj": np.array([np.float64(1.5), pd.Timestamp("2026-12-01")], dtype=object), "v": np.arange(2)},
        {"c": pd.Categorical(["a", "b", "a"]), "v": np.arange(3)},
    ],
)
def test_values_pandas_formats_itself_match(columns: dict[str, Any]) -> None:
    assert datasets.csv_bytes(columns) == pd.DataFrame(columns).to_csv(index=False).encode()


def test_columns_of_keeps_what_pandas_read(tmp_path: Any) -> None:
    path = tmp_path / "in.csv"
    path.write_text("TS,Device,Value,Label\n2026-12-01 00:00:00.000,1,2.5,a\n2026-12-01 00:00:05.000,2,,\n")
    frame = pd.read_csv(path)

    columns = datasets.columns_of(frame)

    assert columns["TS"].dtype == object and columns["Device"].dtype == np.int64
    assert datasets.csv_bytes(columns) == frame.to_csv(index=False).encode()
    pd.testing.assert_frame_equal(datasets.frame_of(columns), frame)


def test_numbers_and_plain_strings_do_not_go_through_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    columns = {
        "TS": np.array(["2026-12-01 00:00:00.000", None], dtype=object),
        "Value": np.array([2.5, np.nan]),
        "Prediction": np.array([0, 1]),
    }
    expected = pd.DataFrame(columns).to_csv(index=False).encode()
    monkeypatch.setattr(datasets, "frame_of", lambda _: pytest.fail("went through pandas"))

    assert datasets.csv_bytes(columns) == expected == b"TS,Value,Prediction\n2026-12-01 00:00:00.000,2.5,0\n,,1\n"


@pytest.mark.parametrize(
    "values",
    [
        np.array([2**63 + 1, 2**63 + 2] * 50, dtype=np.uint64),  # past int64, a narrow range
        np.array([-(2**63), -(2**63) + 3] * 50, dtype=np.int64),
        np.arange(-50, 50, dtype=np.int8).repeat(2),
        np.array([True, False] * 50),
    ],
)
def test_integers_at_the_ends_of_their_types(values: Any) -> None:
    columns = {"v": values, "w": np.arange(len(values))}

    assert datasets.csv_bytes(columns) == pd.DataFrame(columns).to_csv(index=False).encode()
