"""Request payloads to what tabular models take: rows, columns, records, strings, single rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelport import InvalidInputError
from modelport.codecs.tabular import to_frame_or_array, unwrap_data

NAMES = ["a", "b", "c"]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"data": [1, 2]}, [1, 2]),
        ([1, 2], [1, 2]),
        ({"data": [1], "extra": 2}, {"data": [1], "extra": 2}),  # not the envelope: other keys beside data
        ({"inputs": [1]}, {"inputs": [1]}),
        ("text", "text"),
    ],
)
def test_unwrap_data(payload: Any, expected: Any) -> None:
    assert unwrap_data(payload) == expected


def test_rows_become_an_array() -> None:
    result = to_frame_or_array({"data": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]})

    assert isinstance(result, np.ndarray)
    np.testing.assert_array_equal(result, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert result.dtype == np.float64


def test_rows_become_a_frame_when_the_model_names_its_features() -> None:
    result = to_frame_or_array([[1, 2, 3], [4, 5, 6]], NAMES)

    assert isinstance(result, pd.DataFrame)
    assert list(result.columns) == NAMES
    np.testing.assert_array_equal(result.to_numpy(), [[1, 2, 3], [4, 5, 6]])


@pytest.mark.parametrize("last", [None, 7], ids=["with-null", "without-null"])
def test_rows_with_mixed_types_keep_each_column_type(last: int | None) -> None:
    result = to_frame_or_array([[1.5, "red", last], [2.5, "blue", 3]], NAMES)

    assert isinstance(result, pd.DataFrame)
    assert result["a"].tolist() == [1.5, 2.5]  # numbers, not the text numpy makes of a mixed row
    assert result["b"].tolist() == ["red", "blue"]
    assert result["c"].isna().tolist() == [last is None, False]


def test_null_in_rows_is_a_missing_value() -> None:
    result = to_frame_or_array([[1.0, None], [None, 2.0]])

    assert isinstance(result, np.ndarray) and result.dtype == np.float64
    np.testing.assert_array_equal(np.isnan(result), [[False, True], [True, False]])


def test_columns_become_a_frame_in_the_model_order() -> None:
    result = to_frame_or_array({"c": [3, 6], "a": [1, 4], "b": [2, 5], "unused": [0, 0]}, NAMES)

    assert isinstance(result, pd.DataFrame)
    assert list(result.columns) == NAMES
    np.testing.assert_array_equal(result.to_numpy(), [[1, 2, 3], [4, 5, 6]])


def test_columns_of_single_values_are_one_row() -> None:
    result = to_frame_or_array({"a": 1, "b": "x"})

    assert isinstance(result, pd.DataFrame)
    assert result.to_dict(orient="records") == [{"a": 1, "b": "x"}]


def test_records_become_a_frame() -> None:
    records = [{"b": 2, "a": 1, "c": 3}, {"c": 6, "a": 4, "b": 5}]

    ordered = to_frame_or_array(records, NAMES)
    unordered = to_frame_or_array({"data": records})

    assert list(ordered.columns) == NAMES
    np.testing.assert_array_equal(ordered.to_numpy(), [[1, 2, 3], [4, 5, 6]])
    assert list(unordered.columns) == ["b", "a", "c"]


def test_records_with_a_key_missing_in_some_rows() -> None:
    result = to_frame_or_array([{"a": 1, "b": 2, "c": 3}, {"a": 4, "b": 5}], NAMES)

    assert result["c"].isna().tolist() == [False, True]


def test_strings_stay_strings() -> None:
    assert to_frame_or_array(["how do I sort a list", "read a csv"]) == ["how do I sort a list", "read a csv"]
    assert to_frame_or_array({"data": ["one"]}, None, 5) == ["one"]


@pytest.mark.parametrize(("names", "count"), [(NAMES, None), (None, 3)])
def test_a_single_row(names: list[str] | None, count: int | None) -> None:
    result = to_frame_or_array([1.0, 2.0, 3.0], names, count)

    values = result.to_numpy() if isinstance(result, pd.DataFrame) else result
    np.testing.assert_array_equal(values, [[1.0, 2.0, 3.0]])


def test_a_flat_list_of_another_length_stays_one_dimensional() -> None:
    result = to_frame_or_array([1.0, 2.0, 3.0], None, 1)

    assert isinstance(result, np.ndarray) and result.shape == (3,)


def test_arrays_and_frames_pass_through() -> None:
    array = np.ones((2, 3))
    frame = pd.DataFrame({"a": [1]})

    assert to_frame_or_array(array) is array
    assert to_frame_or_array(frame) is frame
    assert to_frame_or_array({"data": array}) is array


@pytest.mark.parametrize(
    ("payload", "names", "message"),
    [
        ([[1, 2, 3], [4, 5]], None, "the input rows are ragged: every row needs the same length"),
        ([[1, 2], [3, [4]]], None, "the input rows are ragged"),
        ([[1, "x"], [None, 2]], None, "the input rows mix numbers with other values"),
        ({"a": [1, 2], "b": [1]}, None, r"the input columns have different lengths \(\[1, 2\]\)"),
        ([{"a": 1, "b": 2}], NAMES, r"the input lacks column\(s\) 'c'; the model expects a, b, c"),
        ({"a": [1], "c": [3]}, NAMES, r"the input lacks column\(s\) 'b'"),
        ([[1, 2], [3, 4]], NAMES, "each row has 2 values; the model expects 3: a, b, c"),
        ([{"a": 1}, [1, 2]], None, "the input mixes records .* with other values"),
        ([1, [2, 3]], None, "the input mixes single values with lists"),
        ({}, None, "the input is an empty object"),
        ([], None, "the input is an empty list"),
        ({"data": []}, None, "the input is an empty list"),
        ("1,2,3", None, "the input is a str: expected a list of rows"),
        (42, None, "the input is a int"),
        (None, None, "the input is a NoneType"),
    ],
)
def test_bad_payloads(payload: Any, names: list[str] | None, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        to_frame_or_array(payload, names)
