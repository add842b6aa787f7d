"""Joining prepared inputs by rows and cutting outputs back into each request's rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelport.codecs import batch


def test_rows_of_each_kind_of_input() -> None:
    assert batch.rows(np.zeros((3, 2))) == 3
    assert batch.rows(np.float64(1.0)) is None
    assert batch.rows(["a", "b"]) == 2
    assert batch.rows(pd.DataFrame({"x": [1, 2, 3, 4]})) == 4
    assert batch.rows({"a": np.zeros((2, 1)), "b": np.zeros((2, 5))}) == 2
    assert batch.rows({"a": np.zeros((2, 1)), "b": np.zeros((3, 5))}) is None
    assert batch.rows({}) is None
    assert batch.rows("text") is None


def test_arrays_are_joined_and_split_back() -> None:
    parts = [np.arange(6.0).reshape(3, 2), np.arange(2.0).reshape(1, 2), np.arange(4.0).reshape(2, 2)]
    joined = batch.concat(parts)
    assert joined.shape == (6, 2)
    back = batch.split(joined * 10, [3, 1, 2])
    assert back is not None
    for part, piece in zip(parts, back, strict=True):
        np.testing.assert_array_equal(piece, part * 10)
    assert batch.concat(parts[:1]) is parts[0]


def test_lists_frames_and_named_inputs() -> None:
    assert batch.concat([["a"], ["b", "c"]]) == ["a", "b", "c"]
    assert batch.split(["x", "y", "z"], [1, 2]) == [["x"], ["y", "z"]]
    frames = [pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"x": [3]})]
    joined = batch.concat(frames)
    assert joined["x"].tolist() == [1, 2, 3] and joined.index.tolist() == [0, 1, 2]
    pieces = batch.split(joined, [2, 1])
    assert pieces is not None and [p["x"].tolist() for p in pieces] == [[1, 2], [3]]
    named = batch.concat([{"a": np.ones((1, 2)), "b": np.zeros(1)}, {"a": np.ones((2, 2)), "b": np.zeros(2)}])
    assert named["a"].shape == (3, 2) and named["b"].shape == (3,)
    out = batch.split({"label": np.array([1, 2, 3]), "p": np.eye(3)}, [1, 2])
    assert out is not None
    assert out[0]["label"].tolist() == [1] and out[1]["p"].tolist() == [[0, 1, 0], [0, 0, 1]]


@pytest.mark.parametrize(
    "output",
    [np.float64(3.0), np.zeros(5), (np.zeros(3), np.zeros(3)), {"total": np.float64(1)}, {}],
    ids=["scalar", "wrong-length", "tuple", "dict-of-scalar", "empty-dict"],
)
def test_an_output_that_is_not_one_row_per_input_row_cannot_be_split(output: object) -> None:
    assert batch.split(output, [1, 2]) is None


def test_inputs_of_an_unknown_kind_cannot_be_joined() -> None:
    with pytest.raises(TypeError, match="cannot batch inputs of type str"):
        batch.concat(["ab", "cd"])
