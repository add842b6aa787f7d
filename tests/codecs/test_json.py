"""JSON encoding of predictions: numpy and pandas values, NaN and infinity as null."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest

from modelport import InvalidInputError
from modelport.codecs.json import dumps, is_finite_number, loads, to_jsonable


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.array([[1, 2], [3, 4]]), [[1, 2], [3, 4]]),
        (np.array([0.5, 1.5], dtype=np.float32), [0.5, 1.5]),
        (np.array([True, False]), [True, False]),
        (np.array(["a", "b"]), ["a", "b"]),
        (np.array([1, "a", None], dtype=object), [1, "a", None]),
        (np.arange(6).reshape(2, 3).T, [[0, 3], [1, 4], [2, 5]]),  # not C-contiguous
        (np.arange(4)[::2], [0, 2]),
        (np.array([1.5], dtype=np.float16), [1.5]),
        (np.int64(3), 3),
        (np.float32(0.25), 0.25),
        (np.bool_(True), True),
        (np.str_("setosa"), "setosa"),
        (np.datetime64("2024-05-01T12:00:00"), "2024-05-01T12:00:00"),
        (pd.Series([1, 2, 3]), [1, 2, 3]),
        (pd.Series([1, None], dtype="Int64"), [1, None]),
        (pd.Series(["a", None]), ["a", None]),
        (pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]),
        (pd.Index([3, 4]), [3, 4]),
        (pd.Categorical(["low", "high"]), ["low", "high"]),
        (pd.Timestamp("2024-05-01 12:00"), "2024-05-01T12:00:00"),
        (pd.NaT, None),
        (pd.NA, None),
        (pd.DataFrame({"t": pd.to_datetime(["2024-05-01", None])}), [{"t": "2024-05-01T00:00:00"}, {"t": None}]),
        ({1, 2} - {2}, [1]),
        ((1, "a"), [1, "a"]),
        (b"bytes", "bytes"),
        (dt.date(2024, 5, 1), "2024-05-01"),
        ({"nested": {"array": np.zeros(2), "rows": [np.int32(1)]}}, {"nested": {"array": [0.0, 0.0], "rows": [1]}}),
    ],
)
def test_numpy_and_pandas_values(value: Any, expected: Any) -> None:
    assert orjson.loads(dumps(value)) == expected
    assert to_jsonable(value) == expected


def test_nan_and_infinity_become_null() -> None:
    value = {
        "float": math.nan,
        "inf": math.inf,
        "array": np.array([1.0, np.nan, -np.inf]),
        "float32": np.array([np.nan], dtype=np.float32),
        "scalar": np.float64("nan"),
        "frame": pd.DataFrame({"a": [1.0, np.nan]}),
    }

    assert dumps(value) == (
        b'{"float":null,"inf":null,"array":[1.0,null,null],"float32":[null],"scalar":null,'
        b'"frame":[{"a":1.0},{"a":null}]}'
    )


def test_dict_keys() -> None:
    classes = np.array([0, 1, 2])
    probabilities = np.array([0.1, 0.2, 0.7])

    assert orjson.loads(dumps(dict(zip(classes, probabilities, strict=True)))) == {"0": 0.1, "1": 0.2, "2": 0.7}
    assert orjson.loads(dumps({np.str_("setosa"): 1, 2: [{np.float64(0.5): "half"}]})) == {
        "setosa": 1,
        "2": [{"0.5": "half"}],
    }


def test_indent() -> None:
    assert dumps({"a": [1]}, indent=True) == b'{\n  "a": [\n    1\n  ]\n}'


@pytest.mark.parametrize("value", [object(), np.array([1 + 2j]), {"a": {1, object()}}])
def test_values_json_cannot_hold(value: Any) -> None:
    with pytest.raises(TypeError, match="cannot be encoded as JSON"):
        dumps(value)


def test_loads() -> None:
    assert loads(b'{"data": [1, 2.5, null]}') == {"data": [1, 2.5, None]}
    assert loads("[true]") == [True]
    with pytest.raises(InvalidInputError, match="the request body is not valid JSON"):
        loads(b"{oops", what="request body")


@pytest.mark.parametrize(
    ("value", "finite"),
    [(1, True), (2.5, True), (math.nan, False), (math.inf, False), (True, False), ("1", False), (None, False)],
)
def test_is_finite_number(value: Any, finite: bool) -> None:
    assert is_finite_number(value) is finite
