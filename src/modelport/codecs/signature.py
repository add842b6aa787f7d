"""Signatures: the names, datatypes and shapes of a model's inputs and outputs, in Open Inference Protocol terms
(datatypes ``BOOL``, ``INT64``, ``FP32``, ``FP64``, ``BYTES``...; ``-1`` is a free dimension, the batch)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .tabular import unwrap_data

_NUMPY_TO_V2 = {
    "b": "BOOL",
    "i1": "INT8",
    "i2": "INT16",
    "i4": "INT32",
    "i8": "INT64",
    "u1": "UINT8",
    "u2": "UINT16",
    "u4": "UINT32",
    "u8": "UINT64",
    "f2": "FP16",
    "f4": "FP32",
    "f8": "FP64",
}


def numpy_to_v2(dtype: Any) -> str:
    dt = np.dtype(dtype)
    if dt.kind in ("U", "S", "O"):
        return "BYTES"
    key = "b" if dt.kind == "b" else f"{dt.kind}{dt.itemsize}"
    return _NUMPY_TO_V2.get(key, "BYTES")


@dataclass(frozen=True)
class TensorSpec:
    name: str
    datatype: str
    shape: list[int]


@dataclass(frozen=True)
class Signature:
    inputs: list[TensorSpec] = field(default_factory=list)
    outputs: list[TensorSpec] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        return cls(
            inputs=[TensorSpec(**t) for t in data.get("inputs", [])],
            outputs=[TensorSpec(**t) for t in data.get("outputs", [])],
        )


def _scalar_type(values: list[Any]) -> str:
    if all(isinstance(v, bool) for v in values):
        return "BOOL"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "INT64"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "FP64"
    return "BYTES"


def _specs(sample: Any, default_name: str) -> list[TensorSpec]:
    data = unwrap_data(sample)
    if isinstance(data, dict):
        specs = []
        for key, value in data.items():
            values = value if isinstance(value, list) else [value]
            shape = [-1] if isinstance(value, list) else [1]
            if values and isinstance(values[0], list):
                inner = [v for row in values for v in (row if isinstance(row, list) else [row])]
                specs.append(TensorSpec(str(key), _scalar_type(inner), [-1, len(values[0])]))
            else:
                specs.append(TensorSpec(str(key), _scalar_type(values), shape))
        return specs
    if isinstance(data, list) and data:
        first = data[0]
        if isinstance(first, dict):
            keys = list(first)
            return [TensorSpec(str(k), _scalar_type([row.get(k) for row in data]), [-1]) for k in keys]
        if isinstance(first, list):
            flat = [v for row in data for v in row]
            return [TensorSpec(default_name, _scalar_type(flat), [-1, len(first)])]
        return [TensorSpec(default_name, _scalar_type(data), [-1])]
    if isinstance(data, str | int | float | bool):
        return [TensorSpec(default_name, _scalar_type([data]), [1])]
    return []


def infer_signature(sample_input: Any, sample_output: Any = None) -> Signature | None:
    """A signature read off JSON samples; ``None`` when there is no sample input."""
    if sample_input is None:
        return None
    outputs = _specs(sample_output, "output") if sample_output is not None else []
    return Signature(inputs=_specs(sample_input, "input"), outputs=outputs)
