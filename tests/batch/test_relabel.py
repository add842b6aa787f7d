"""A score step's ``labels`` map predictions as ``Series.replace`` does, whatever their type, and mini-batches are
joined as pandas joins them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelport.batch import datasets
from modelport.batch.tasks import _joined, _relabel

CASES = [
    (np.array([1, -1, 1, 7]), {1: 0, -1: 1}),  # a one-class model's answers
    (np.array([1, -1, 1], dtype=np.int8), {1: 0, -1: 1}),
    (np.array([1, -1, 2], dtype=np.int32), {1: 0, -1: 100_000}),
    (np.array([0, 1, 2], dtype=np.uint8), {0: 300}),  # beyond the type: pandas' rule
    (np.array([1, -1]), {1: "normal", -1: "anomaly"}),
    (np.array([0.1, 0.7], dtype=np.float32), {0: "no", 1: "yes"}),  # probabilities stay float32
    (np.array([0.0, 1.0]), {0: 10, 1: 20}),
    (np.array([np.nan, 1.0]), {np.nan: "missing"}),
    (np.array([True, False]), {1: 0}),
    (np.array(["a", "b"], dtype=object), {"a": "A"}),
    (np.array([], dtype=np.int64), {1: 0}),
]


@pytest.mark.parametrize(("values", "labels"), CASES)
def test_labels_map_as_series_replace_does(values: Any, labels: dict[Any, Any]) -> None:
    expected = pd.Series(values).replace(labels).to_numpy()

    got = _relabel(values, labels)

    assert got.dtype == expected.dtype
    assert datasets.csv_bytes({"p": got, "i": np.arange(len(got))}) == datasets.csv_bytes(
        {"p": expected, "i": np.arange(len(got))}
    )


def test_mini_batches_of_different_types_join_as_pandas_joins_them() -> None:
    chunks = [{"p": np.array([False, True])}, {"p": np.array([2])}]

    joined = _joined(chunks, "p")["p"]

    assert joined.tolist() == [False, True, 2]
    assert joined.tolist() == pd.concat([pd.Series(c["p"]) for c in chunks], ignore_index=True).tolist()


def test_narrow_int8_columns_keep_their_values_in_csv() -> None:
    columns = {"a": np.array([-100, 100] * 40, dtype=np.int8), "p": np.zeros(80)}

    assert datasets.csv_bytes(columns) == pd.DataFrame(columns).to_csv(index=False).encode()


def test_local_paths_are_made_absolute_as_fsspec_makes_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)

    datasets.write_bytes("~/out/a.csv", b"a")
    datasets.write_bytes("rel/b.csv", b"b")
    datasets.write_bytes(f"file:{tmp_path}/c.csv", b"c")
    datasets.write_bytes(f"file://{tmp_path}/d.csv", b"d")

    assert (tmp_path / "out" / "a.csv").read_bytes() == b"a"
    assert (tmp_path / "rel" / "b.csv").read_bytes() == b"b"
    assert (tmp_path / "c.csv").read_bytes() == b"c"
    assert (tmp_path / "d.csv").read_bytes() == b"d"
