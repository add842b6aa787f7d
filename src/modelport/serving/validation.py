"""Check a decoded request against a model's signature before scoring, so that a wrong shape, type or missing
column is a 400 that says what was expected instead of an error from deep inside the model."""

from __future__ import annotations

from itertools import chain
from typing import Any

from ..codecs.signature import Signature, TensorSpec
from ..codecs.tabular import unwrap_data
from ..errors import InvalidInputError

NUMERIC = {"BOOL", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "FP16", "FP32", "FP64"}


NUMBERS = NUMERIC - {"BOOL"}


def _all_numbers(rows: list[Any], width: int) -> bool:
    """Whether ``rows`` are lists of ``width`` ints or floats (what JSON numbers decode to), in one pass."""
    return (
        all(type(row) is list for row in rows)
        and set(map(len, rows)) == {width}
        and set(map(type, chain.from_iterable(rows))) <= {float, int}
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_value(value: Any, spec: TensorSpec, where: str) -> None:
    if spec.datatype == "BOOL":
        if not isinstance(value, bool | int):
            raise InvalidInputError(f"{where} is {value!r}: expected true or false ({spec.name})")
    elif spec.datatype in NUMERIC:
        if not _is_number(value):
            raise InvalidInputError(f"{where} is {value!r}: expected a number ({spec.name}, {spec.datatype})")
    elif spec.datatype == "BYTES" and not isinstance(value, str):
        raise InvalidInputError(f"{where} is {value!r}: expected a string ({spec.name})")


def _check_rows(data: Any, spec: TensorSpec, width: int, columns: list[TensorSpec] | None = None) -> None:
    """Rows of ``width`` values of ``spec``'s type, or, given ``columns``, each value of its column's type."""
    expected = f"a list of rows of {width} value(s) ({spec.name}, {spec.datatype})"
    if not isinstance(data, list) or not data:
        raise InvalidInputError(f"the input must be {expected}")
    rows = data if isinstance(data[0], list) else [data]
    if columns is None and spec.datatype in NUMBERS and _all_numbers(rows, width):
        return  # the common case, checked in C; a mismatch is then walked value by value for a precise message
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise InvalidInputError(f"row {i} is {row!r}, not a list of {width} value(s)")
        if len(row) != width:
            raise InvalidInputError(f"row {i} has {len(row)} value(s); the model expects {width} per row")
        for j, value in enumerate(row):
            if columns is None:
                _check_value(value, spec, f"row {i}, column {j}")
            else:
                _check_value(value, columns[j], f"row {i}, column {columns[j].name!r}")


def _check_columns(data: Any, specs: list[TensorSpec]) -> None:
    names = [s.name for s in specs]
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing:
            raise InvalidInputError(
                f"the input lacks column(s) {', '.join(map(repr, missing))}; expected {', '.join(names)}"
            )
        for spec in specs:
            values = data[spec.name] if isinstance(data[spec.name], list) else [data[spec.name]]
            for i, value in enumerate(values):
                _check_value(value, spec, f"column {spec.name!r}, row {i}")
        return
    if isinstance(data, list) and data and isinstance(data[0], dict):
        for i, record in enumerate(data):
            if not isinstance(record, dict):
                raise InvalidInputError(f"row {i} is not an object: send every row as a record")
            missing = [n for n in names if n not in record]
            if missing:
                raise InvalidInputError(
                    f"row {i} lacks column(s) {', '.join(map(repr, missing))}; expected {', '.join(names)}"
                )
            for spec in specs:
                _check_value(record[spec.name], spec, f"row {i}, column {spec.name!r}")
        return
    if isinstance(data, list) and data and isinstance(data[0], list):
        _check_rows(data, TensorSpec("row", specs[0].datatype, [-1, len(specs)]), len(specs), columns=specs)
        return
    raise InvalidInputError(
        f"the input must be records, an object of columns or rows of {len(specs)} values: {', '.join(names)}"
    )


def check_payload(signature: Signature | None, payload: Any) -> None:
    """Raise ``InvalidInputError`` when ``payload`` does not fit ``signature``; pass when there is nothing to check
    against or the signature has a form this check does not know."""
    if signature is None or not signature.inputs:
        return
    data = unwrap_data(payload)
    inputs = signature.inputs
    first = inputs[0]
    if len(inputs) == 1 and len(first.shape) == 2 and first.shape[1] > 0:
        _check_rows(data, first, first.shape[1])
    elif len(inputs) == 1 and first.shape == [-1] and first.datatype == "BYTES" and isinstance(data, list):
        for i, value in enumerate(data):
            _check_value(value, first, f"item {i}")
    elif len(inputs) > 1 and all(s.shape == [-1] for s in inputs):
        _check_columns(data, inputs)
