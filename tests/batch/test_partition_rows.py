"""``partition_rows`` splits an input as ``DataFrame.groupby`` does: the same groups, in the same order, each with
its rows in the input's order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelport.batch import datasets
from modelport.batch.datasets import partition_rows


@pytest.mark.parametrize("by", [["Device"], ["Device", "Tag"], ["Site"]])
def test_same_groups_and_rows_as_groupby(by: list[str]) -> None:
    rng = np.random.default_rng(3)
    rows = 500
    data = pd.DataFrame(
        {
            "TS": [f"2026-12-01 00:00:{i % 60:02d}" for i in range(rows)],
            "Device": rng.integers(1, 6, rows),
            "Tag": rng.choice(["b", "a", "c"], rows),
            "Site": rng.choice(["north", "south", None], rows),  # a missing value is a group of its own
            "Value": rng.normal(size=rows),
        }
    )

    got = partition_rows(data, by)
    want = list(data.groupby(by, sort=True, dropna=False))

    assert len(got) == len(want)
    for (values, columns), (key, frame) in zip(got, want, strict=True):
        key = key if isinstance(key, tuple) else (key,)
        assert [None if pd.isna(v) else v for v in values] == [None if pd.isna(k) else k for k in key]
        expected = frame.reset_index(drop=True)
        pd.testing.assert_frame_equal(datasets.frame_of(columns, datasets.text_dtypes(data)), expected)


def test_no_rows_no_partitions() -> None:
    assert partition_rows(pd.DataFrame({"Device": [], "Value": []}), ["Device"]) == []
