"""Payloads are checked against the signature before scoring: a wrong shape, type or a missing column is an error
that says what was expected; what the check does not know passes through to the model."""

from __future__ import annotations

from typing import Any

import pytest

from modelport import InvalidInputError
from modelport.codecs.signature import Signature, TensorSpec
from modelport.serving.validation import check_payload

ROWS = Signature(inputs=[TensorSpec("input", "FP64", [-1, 2])])
COLUMNS = Signature(inputs=[TensorSpec("age", "INT64", [-1]), TensorSpec("city", "BYTES", [-1])])
TEXT = Signature(inputs=[TensorSpec("text", "BYTES", [-1])])
FLAGS = Signature(inputs=[TensorSpec("flags", "BOOL", [-1, 2])])


@pytest.mark.parametrize(
    ("signature", "payload"),
    [
        (ROWS, {"data": [[1, 2.5], [3, 4]]}),
        (ROWS, [[1, 2.5]]),
        (ROWS, {"data": [1, 2]}),  # one row
        (COLUMNS, {"data": {"age": [30, 40], "city": ["Oslo", "Rome"]}}),
        (COLUMNS, {"data": {"age": 30, "city": "Oslo"}}),  # one value per column
        (COLUMNS, [{"age": 30, "city": "Oslo", "extra": True}]),  # extra columns are the model's business
        (COLUMNS, [[30, "Oslo"]]),  # rows of a table, each value of its column's type
        (COLUMNS, {"data": {"age": [30.5], "city": ["Oslo"]}}),  # a number for an integer column: the model decides
        (TEXT, {"data": ["how do I", "what is"]}),
        (FLAGS, [[True, False], [1, 0]]),
        (None, {"anything": "goes"}),
        (Signature(), [[1]]),
        (Signature(inputs=[TensorSpec("image", "UINT8", [-1, 28, 28])]), {"data": "base64..."}),  # unknown form
    ],
)
def test_payloads_that_fit(signature: Signature | None, payload: Any) -> None:
    check_payload(signature, payload)


@pytest.mark.parametrize(
    ("signature", "payload", "message"),
    [
        (ROWS, {"data": [[1, 2, 3]]}, "row 0 has 3 value(s); the model expects 2 per row"),
        (ROWS, {"data": [[1, None]]}, "row 0, column 1 is None: expected a number (input, FP64)"),
        (ROWS, {"data": {"a": [1]}}, "the input must be a list of rows of 2 value(s) (input, FP64)"),
        (ROWS, {"data": [[1, 2], 3]}, "row 1 is 3, not a list of 2 value(s)"),
        (COLUMNS, {"data": {"age": [30]}}, "the input lacks column(s) 'city'; expected age, city"),
        (COLUMNS, [[30, 7]], "row 0, column 'city' is 7: expected a string (city)"),
        (COLUMNS, [[30, "Oslo", 1]], "row 0 has 3 value(s); the model expects 2 per row"),
        (COLUMNS, {"data": {"age": [30], "city": [7]}}, "column 'city', row 0 is 7: expected a string (city)"),
        (COLUMNS, [{"age": 30, "city": "Oslo"}, 5], "row 1 is not an object: send every row as a record"),
        (COLUMNS, [{"city": "Oslo"}], "row 0 lacks column(s) 'age'; expected age, city"),
        (COLUMNS, "Oslo", "the input must be records, an object of columns or rows of 2 values: age, city"),
        (TEXT, {"data": ["fine", 42]}, "item 1 is 42: expected a string (text)"),
        (FLAGS, [[True, "yes"]], "row 0, column 1 is 'yes': expected true or false (flags)"),
    ],
)
def test_payloads_that_do_not_fit(signature: Signature, payload: Any, message: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        check_payload(signature, payload)

    assert str(raised.value).startswith(message)
