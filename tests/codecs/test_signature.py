"""Signatures read off sample inputs and outputs, in Open Inference Protocol terms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from modelport.codecs.signature import Signature, TensorSpec, infer_signature, numpy_to_v2


@pytest.mark.parametrize(
    ("sample", "inputs"),
    [
        ({"data": [[1.0, 2.0, 3.0]]}, [TensorSpec("input", "FP64", [-1, 3])]),
        ([[1, 2], [3, 4]], [TensorSpec("input", "INT64", [-1, 2])]),
        ([[1, 2.5]], [TensorSpec("input", "FP64", [-1, 2])]),
        ([["a", "b"]], [TensorSpec("input", "BYTES", [-1, 2])]),
        (["how do I sort", "read a csv"], [TensorSpec("input", "BYTES", [-1])]),
        ([True, False], [TensorSpec("input", "BOOL", [-1])]),
        (
            [{"age": 30, "income": 1.5, "city": "Oslo"}],
            [TensorSpec("age", "INT64", [-1]), TensorSpec("income", "FP64", [-1]), TensorSpec("city", "BYTES", [-1])],
        ),
        (
            {"age": [30, 40], "city": "Oslo", "scores": [[1.0, 2.0]]},
            [TensorSpec("age", "INT64", [-1]), TensorSpec("city", "BYTES", [1]), TensorSpec("scores", "FP64", [-1, 2])],
        ),
        ("one question", [TensorSpec("input", "BYTES", [1])]),
        (3.5, [TensorSpec("input", "FP64", [1])]),
        ([], []),
        ({}, []),
    ],
)
def test_inputs_from_samples(sample: Any, inputs: list[TensorSpec]) -> None:
    signature = infer_signature(sample)

    assert signature == Signature(inputs=inputs, outputs=[])


def test_outputs_from_samples() -> None:
    signature = infer_signature([[1.0, 2.0]], [0, 1])

    assert signature is not None
    assert signature.outputs == [TensorSpec("output", "INT64", [-1])]
    assert infer_signature([[1.0]], {"label": [1], "probability": [[0.2, 0.8]]}) == Signature(
        inputs=[TensorSpec("input", "FP64", [-1, 1])],
        outputs=[TensorSpec("label", "INT64", [-1]), TensorSpec("probability", "FP64", [-1, 2])],
    )


def test_no_sample_input_no_signature() -> None:
    assert infer_signature(None) is None
    assert infer_signature(None, [1, 2]) is None


def test_round_trip_through_a_dict() -> None:
    signature = Signature(inputs=[TensorSpec("x", "FP32", [-1, 4])], outputs=[TensorSpec("label", "INT64", [-1])])

    data = signature.to_dict()

    assert data == {
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}],
        "outputs": [{"name": "label", "datatype": "INT64", "shape": [-1]}],
    }
    assert Signature.from_dict(data) == signature
    assert Signature.from_dict({}) == Signature()


@pytest.mark.parametrize(
    ("dtype", "datatype"),
    [
        (np.float32, "FP32"),
        (np.float64, "FP64"),
        (np.float16, "FP16"),
        (np.int8, "INT8"),
        (np.int64, "INT64"),
        (np.uint8, "UINT8"),
        (np.uint64, "UINT64"),
        (np.bool_, "BOOL"),
        (np.str_, "BYTES"),
        (np.bytes_, "BYTES"),
        (object, "BYTES"),
        (np.complex128, "BYTES"),
        ("datetime64[ns]", "BYTES"),
    ],
)
def test_numpy_to_v2(dtype: Any, datatype: str) -> None:
    assert numpy_to_v2(dtype) == datatype
