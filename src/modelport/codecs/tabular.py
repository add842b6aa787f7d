"""Request payloads to the inputs models take: numpy arrays, pandas frames, lists of strings.

Accepted shapes (the ones Azure ML, MLflow and MLServer users send):

- ``{"data": X}`` or X itself, where X is
- a list of rows (lists of numbers)          -> a 2-D numpy array (a DataFrame when the model knows column names)
- a dict of columns ``{"col": [v, ...]}``     -> a DataFrame
- a list of records ``[{"col": v}, ...]``     -> a DataFrame
- a list of strings                          -> a list of strings (text pipelines)
- a single row (list of numbers)             -> a 1-row array when the model takes that many features
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InvalidInputError, MissingDependencyError


def unwrap_data(payload: Any) -> Any:
    """Strip the ``{"data": ...}`` envelope of Azure ML style requests."""
    if isinstance(payload, dict) and "data" in payload and len(payload) == 1:
        return payload["data"]
    return payload


def _pandas() -> Any:
    try:
        import pandas
    except ModuleNotFoundError as exc:
        raise MissingDependencyError("pandas", "sklearn", "tabular input with column names") from exc
    return pandas


def to_frame_or_array(payload: Any, feature_names: Sequence[str] | None = None, n_features: int | None = None) -> Any:
    """Convert a decoded JSON payload to what a tabular model's predict takes."""
    data = unwrap_data(payload)
    if isinstance(data, dict):
        if not data:
            raise InvalidInputError("the input is an empty object: expected columns or rows")
        columns = {k: v if isinstance(v, list) or getattr(v, "ndim", 0) == 1 else [v] for k, v in data.items()}
        lengths = {len(v) for v in columns.values()}
        if len(lengths) != 1:
            raise InvalidInputError(
                f"the input columns have different lengths ({sorted(lengths)}): every column needs one value per row"
            )
        return _ordered(_pandas().DataFrame(columns), feature_names)
    if not isinstance(data, list):
        if hasattr(data, "shape") or type(data).__module__.startswith("pandas"):
            return data  # already an array or a frame (Python API callers)
        raise InvalidInputError(
            f"the input is a {type(data).__name__}: expected a list of rows, a list of records or an object of columns"
        )
    if not data:
        raise InvalidInputError("the input is an empty list: expected at least one row")
    first = data[0]
    if isinstance(first, dict):
        if not all(isinstance(row, dict) for row in data):
            raise InvalidInputError("the input mixes records (objects) with other values: send one kind of row")
        return _ordered(_pandas().DataFrame.from_records(data), feature_names)
    if isinstance(first, str):
        return data
    if isinstance(first, list):
        try:
            array = np.asarray(data)
        except ValueError as exc:
            raise InvalidInputError(f"the input rows are ragged: every row needs the same length ({exc})") from exc
        if feature_names is not None and array.ndim == 2:
            if array.shape[1] != len(feature_names):
                raise InvalidInputError(
                    f"each row has {array.shape[1]} values; the model expects {len(feature_names)}: "
                    + ", ".join(feature_names)
                )
            # from the rows, not the array: a column keeps its own type where rows mix numbers, text and null
            return _pandas().DataFrame(data, columns=list(feature_names))
        if array.dtype == object:  # equal-length rows holding null (a missing value) or mixed types
            try:
                array = np.asarray(data, dtype=np.float64)  # null becomes NaN
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(
                    "the input rows mix numbers with other values: send numbers (or null for a missing value)"
                ) from exc
        return array
    try:
        array = np.asarray(data)
    except ValueError as exc:
        raise InvalidInputError(f"the input mixes single values with lists: send a list of rows ({exc})") from exc
    expected = len(feature_names) if feature_names is not None else n_features
    if array.ndim == 1 and expected is not None and array.shape[0] == expected:
        return to_frame_or_array([data], feature_names, n_features)
    return array


def _ordered(frame: Any, feature_names: Sequence[str] | None) -> Any:
    if feature_names is None:
        return frame
    missing = [c for c in feature_names if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"the input lacks column(s) {', '.join(map(repr, missing))}; the model expects " + ", ".join(feature_names)
        )
    return frame[list(feature_names)]
