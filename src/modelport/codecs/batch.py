"""Several requests' model inputs as one batch, and the batch's output back as each request's own rows.

The inputs are what a runtime's ``prepare`` returns: numpy arrays, pandas frames, lists (of strings, say) or a dict of
those (named inputs, as ONNX takes). ``rows`` tells how many rows one holds, ``concat`` joins them along the first
axis, ``split`` cuts an output back into parts of the given sizes, or answers None when the output is not one row per
input row (a model that aggregates, or returns one value): such a model cannot be batched.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np


def _is_frame(value: Any) -> bool:
    return type(value).__module__.startswith("pandas") and hasattr(value, "iloc")


def rows(value: Any) -> int | None:
    """The number of rows of a prepared input, or None when it has no first axis to batch on."""
    if isinstance(value, np.ndarray):
        return int(value.shape[0]) if value.ndim > 0 else None
    if isinstance(value, list) or _is_frame(value):
        return len(value)
    if isinstance(value, dict) and value:
        counts = {rows(v) for v in value.values()}
        return counts.pop() if len(counts) == 1 else None
    return None


def concat(parts: Sequence[Any]) -> Any:
    """Join prepared inputs (all of one kind, as one runtime prepares them) along their rows."""
    first = parts[0]
    if len(parts) == 1:
        return first
    if isinstance(first, np.ndarray):
        return np.concatenate(parts)
    if isinstance(first, list):
        joined: list[Any] = []
        for part in parts:
            joined.extend(part)
        return joined
    if isinstance(first, dict):
        return {key: concat([part[key] for part in parts]) for key in first}
    if _is_frame(first):
        import pandas

        return pandas.concat(parts, ignore_index=True)
    raise TypeError(f"cannot batch inputs of type {type(first).__name__}")


def split(output: Any, sizes: Sequence[int]) -> list[Any] | None:
    """``output`` cut into consecutive parts of ``sizes`` rows, or None when it does not have one row per input row."""
    total = sum(sizes)
    if isinstance(output, dict):
        columns = {key: split(value, sizes) for key, value in output.items()}
        if not columns or any(parts is None for parts in columns.values()):
            return None
        return [{key: parts[i] for key, parts in columns.items() if parts is not None} for i in range(len(sizes))]
    if isinstance(output, tuple):
        return None
    if rows(output) != total:
        return None
    bounds = np.cumsum([0, *sizes]).tolist()
    if _is_frame(output):
        return [output.iloc[start:end] for start, end in pairwise(bounds)]
    return [output[start:end] for start, end in pairwise(bounds)]
