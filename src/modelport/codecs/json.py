"""Fast JSON (orjson) that understands numpy arrays and scalars and pandas frames and series."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson

from ..errors import InvalidInputError

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):  # orjson takes C-contiguous arrays of common dtypes only
        return obj.tolist()
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", errors="replace")
    module = type(obj).__module__
    if module.startswith("pandas"):
        if hasattr(obj, "to_dict") and hasattr(obj, "columns"):
            return obj.to_dict(orient="records")
        if hasattr(obj, "tolist"):
            return obj.tolist()
        if type(obj).__name__ in ("NaTType", "NAType"):  # missing values of nullable and datetime columns
            return None
        if hasattr(obj, "isoformat"):  # Timestamp and Timedelta: orjson takes exact datetimes only
            return obj.isoformat()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


def dumps(obj: Any, indent: bool = False) -> bytes:
    """Encode to JSON bytes. NaN and infinity, which JSON lacks, become null."""
    options = _OPTIONS | (orjson.OPT_INDENT_2 if indent else 0)
    try:
        return orjson.dumps(obj, default=_default, option=options)
    except orjson.JSONEncodeError as exc:
        if "Dict key" in str(exc):  # numpy keys ({np.int64(0): p, ...}): orjson never passes keys to default
            try:
                return orjson.dumps(_plain_keys(obj), default=_default, option=options)
            except orjson.JSONEncodeError as again:
                exc = again
        raise TypeError(f"the result cannot be encoded as JSON: {exc}") from exc


def _plain_keys(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {(k.item() if isinstance(k, np.generic) else k): _plain_keys(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain_keys(v) for v in obj]
    return obj


def loads(data: bytes | str, what: str = "input") -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"the {what} is not valid JSON: {exc}") from exc


def to_jsonable(obj: Any) -> Any:
    """Plain Python values (lists, dicts, numbers, strings) for any result ``dumps`` can encode."""
    value = orjson.loads(dumps(obj))
    return value


def is_finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
