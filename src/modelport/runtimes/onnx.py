"""ONNX models on onnxruntime. Inputs are matched by name; one-input models take the payload directly."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..codecs.signature import Signature, TensorSpec
from ..codecs.tabular import unwrap_data
from ..errors import InvalidInputError
from ._imports import require
from .base import Runtime, rejected_input

_ORT_TO_NUMPY = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32,
    "tensor(uint64)": np.uint64,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}
_ORT_TO_V2 = {
    "tensor(float)": "FP32",
    "tensor(double)": "FP64",
    "tensor(float16)": "FP16",
    "tensor(int64)": "INT64",
    "tensor(int32)": "INT32",
    "tensor(int16)": "INT16",
    "tensor(int8)": "INT8",
    "tensor(uint8)": "UINT8",
    "tensor(uint16)": "UINT16",
    "tensor(uint32)": "UINT32",
    "tensor(uint64)": "UINT64",
    "tensor(bool)": "BOOL",
    "tensor(string)": "BYTES",
}


def _shape(dims: list[Any]) -> list[int]:
    return [d if isinstance(d, int) and d >= 0 else -1 for d in dims]


class OnnxRuntime(Runtime):
    """Options: ``threads`` (intra-op threads, 0 = onnxruntime's choice), ``outputs`` (names to return)."""

    framework = "onnx"
    option_types: ClassVar[dict[str, type]] = {"threads": int, "outputs": list}

    def load(self) -> None:
        ort = require("onnxruntime", "onnx", "loading an ONNX model")
        session_options = ort.SessionOptions()
        session_options.intra_op_num_threads = self.options.get("threads", 0)
        session_options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(self.context.model_file), session_options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors for invalid files
            raise InvalidInputError(f"{self.context.model_path} is not a loadable ONNX model: {exc}") from exc
        self.inputs = self.session.get_inputs()
        all_outputs = [o.name for o in self.session.get_outputs()]
        requested = self.options.get("outputs") or all_outputs
        unknown = [o for o in requested if o not in all_outputs]
        if unknown:
            raise InvalidInputError(
                f"option outputs names {', '.join(unknown)}, which the model lacks; it has {', '.join(all_outputs)}"
            )
        self.output_names: list[str] = list(requested)
        # rows of several requests can share a run when every input's first dimension is free (the batch axis)
        self.batchable = all(len(i.shape) > 0 and not isinstance(i.shape[0], int) for i in self.inputs)
        self.ready = True

    def _tensor(self, spec: Any, value: Any) -> np.ndarray:
        dtype = _ORT_TO_NUMPY.get(spec.type)
        if dtype is None:
            raise InvalidInputError(f"input {spec.name!r} has type {spec.type}, which modelport cannot feed")
        try:
            array: np.ndarray = np.asarray(value, dtype=dtype)
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(f"input {spec.name!r} must be {_ORT_TO_V2[spec.type]} values: {exc}") from exc
        rank = len(spec.shape)
        if array.ndim == rank - 1:  # one row, or a column vector given flat
            trailing = spec.shape[-1]
            array = array.reshape(-1, 1) if trailing == 1 else array.reshape(1, *array.shape)
        if array.ndim != rank:
            raise InvalidInputError(
                f"input {spec.name!r} has {array.ndim} dimension(s); the model expects {rank} "
                f"(shape {_shape(spec.shape)})"
            )
        return array

    def prepare(self, data: Any) -> Any:
        data = unwrap_data(data)
        if isinstance(data, dict) and all(i.name in data for i in self.inputs):
            feeds = {i.name: self._tensor(i, data[i.name]) for i in self.inputs}
        elif len(self.inputs) == 1:
            if isinstance(data, dict):
                raise InvalidInputError(
                    f"the input names {', '.join(map(repr, data))}; the model's input is {self.inputs[0].name!r}"
                )
            feeds = {self.inputs[0].name: self._tensor(self.inputs[0], data)}
        else:
            names = ", ".join(repr(i.name) for i in self.inputs)
            raise InvalidInputError(f"the model has several inputs ({names}): send an object with one key each")
        return feeds

    def infer(self, batch: Any) -> Any:
        try:
            results = self.session.run(self.output_names, batch)
        except Exception as exc:  # onnxruntime's InvalidArgument etc. do not share a base class
            raise rejected_input(exc, self.context) from exc
        if len(results) == 1:
            return results[0]
        return dict(zip(self.output_names, results, strict=True))

    def describe(self) -> Signature:
        if self.context.signature is not None:
            return self.context.signature
        return Signature(
            inputs=[TensorSpec(i.name, _ORT_TO_V2.get(i.type, "BYTES"), _shape(i.shape)) for i in self.inputs],
            outputs=[
                TensorSpec(o.name, _ORT_TO_V2.get(o.type, "BYTES"), _shape(o.shape))
                for o in self.session.get_outputs()
                if o.name in self.output_names
            ],
        )

    def unload(self) -> None:
        self.session = None
        super().unload()
