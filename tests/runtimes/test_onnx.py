"""The ONNX runtime predicts what onnxruntime predicts, and what the scikit-learn model it came from predicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelport import InvalidInputError, Workspace
from modelport.codecs.signature import Signature, TensorSpec
from modelport.runtimes.onnx import OnnxRuntime

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def iris_onnx(iris_classifier: Any) -> Any:
    """The iris classifier converted with skl2onnx: input ``input`` (float32, [N, 4]); outputs ``label`` and
    ``probabilities`` (a plain tensor, not a ZipMap)."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    return convert_sklearn(
        iris_classifier,
        initial_types=[("input", FloatTensorType([None, 4]))],
        options={id(iris_classifier): {"zipmap": False}},
        target_opset=17,
    )


@pytest.fixture(scope="module")
def two_inputs() -> Any:
    """A hand-built graph: ``sum = a + b`` over float32 [N, 2] tensors."""
    from onnx import TensorProto, helper

    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [None, 2])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [None, 2])
    total = helper.make_tensor_value_info("sum", TensorProto.FLOAT, [None, 2])
    graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["sum"])], "add", [a, b], [total])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _rows(iris: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return np.asarray(iris[0][::7], dtype=np.float32)


def test_in_memory_model_matches_onnxruntime_and_sklearn(
    sqlite_workspace: Workspace, iris_onnx: Any, iris_classifier: Any, iris: tuple[np.ndarray, np.ndarray]
) -> None:
    rows = _rows(iris)
    version = sqlite_workspace.models.register("iris", obj=iris_onnx)
    session = ort.InferenceSession(iris_onnx.SerializeToString(), providers=["CPUExecutionProvider"])
    labels, probabilities = session.run(["label", "probabilities"], {"input": rows})

    runtime = sqlite_workspace.models.load("iris")
    result = runtime.predict(rows.tolist())

    assert (version.framework, version.model_path) == ("onnx", "model.onnx")
    assert isinstance(runtime, OnnxRuntime)
    assert sorted(result) == ["label", "probabilities"]
    np.testing.assert_array_equal(result["label"], labels)
    np.testing.assert_allclose(result["probabilities"], probabilities, rtol=1e-6)
    np.testing.assert_array_equal(result["label"], iris_classifier.predict(rows))
    np.testing.assert_allclose(result["probabilities"], iris_classifier.predict_proba(rows), rtol=1e-4, atol=1e-5)


def test_model_from_a_file(
    sqlite_workspace: Workspace, iris_onnx: Any, tmp_path: Path, iris: tuple[np.ndarray, np.ndarray]
) -> None:
    path = tmp_path / "iris.onnx"
    onnx.save_model(iris_onnx, str(path))
    rows = _rows(iris)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(["probabilities"], {"input": rows})

    version = sqlite_workspace.models.register("iris", path, runtime_options={"outputs": ["probabilities"]})
    runtime = sqlite_workspace.models.load("iris")

    assert (version.framework, version.model_path) == ("onnx", "iris.onnx")
    np.testing.assert_allclose(runtime.predict({"data": rows.tolist()}), probabilities, rtol=1e-6)
    np.testing.assert_allclose(runtime.predict({"input": rows.tolist()}), probabilities, rtol=1e-6)
    np.testing.assert_allclose(runtime.predict(rows[0].tolist()), probabilities[:1], rtol=1e-6)  # one row, flat


def test_outputs_option(sqlite_workspace: Workspace, iris_onnx: Any, iris: tuple[np.ndarray, np.ndarray]) -> None:
    sqlite_workspace.models.register("iris", obj=iris_onnx)
    rows = _rows(iris).tolist()

    label_only = sqlite_workspace.models.load("iris", outputs=["label"])
    from_text = sqlite_workspace.models.load("iris", outputs="probabilities, label")

    assert label_only.predict(rows).dtype == np.int64
    assert list(from_text.predict(rows)) == ["probabilities", "label"]
    assert [o.name for o in label_only.describe().outputs] == ["label"]
    with pytest.raises(InvalidInputError, match="option outputs names scores, which the model lacks; it has label"):
        sqlite_workspace.models.load("iris", outputs=["scores"])
    with pytest.raises(InvalidInputError, match="option 'outputs' of the onnx runtime must be a list, got 3"):
        sqlite_workspace.models.load("iris", outputs=3)


def test_threads_option(sqlite_workspace: Workspace, iris_onnx: Any, iris: tuple[np.ndarray, np.ndarray]) -> None:
    sqlite_workspace.models.register("iris", obj=iris_onnx, runtime_options={"threads": 1})
    rows = _rows(iris).tolist()

    one = sqlite_workspace.models.load("iris")
    two = sqlite_workspace.models.load("iris", threads=2)

    assert isinstance(one, OnnxRuntime) and isinstance(two, OnnxRuntime)
    assert one.session.get_session_options().intra_op_num_threads == 1
    assert two.session.get_session_options().intra_op_num_threads == 2
    np.testing.assert_allclose(one.predict(rows)["probabilities"], two.predict(rows)["probabilities"])
    for bad in ("two", True, 1.5):
        with pytest.raises(InvalidInputError, match="option 'threads' of the onnx runtime must be a int"):
            sqlite_workspace.models.load("iris", threads=bad)


def test_describe(sqlite_workspace: Workspace, iris_onnx: Any) -> None:
    sqlite_workspace.models.register("iris", obj=iris_onnx)

    assert sqlite_workspace.models.load("iris").describe() == Signature(
        inputs=[TensorSpec("input", "FP32", [-1, 4])],
        outputs=[TensorSpec("label", "INT64", [-1]), TensorSpec("probabilities", "FP32", [-1, 3])],
    )


def test_several_inputs_by_name(sqlite_workspace: Workspace, two_inputs: Any) -> None:
    sqlite_workspace.models.register("add", obj=two_inputs)
    runtime = sqlite_workspace.models.load("add")

    result = runtime.predict({"a": [[1.0, 2.0], [3.0, 4.0]], "b": [[10.0, 20.0], [30.0, 40.0]]})

    np.testing.assert_allclose(result, [[11.0, 22.0], [33.0, 44.0]])
    np.testing.assert_allclose(runtime.predict({"data": {"a": [1.0, 2.0], "b": [0.5, 0.5]}}), [[1.5, 2.5]])
    with pytest.raises(InvalidInputError, match="the model has several inputs \\('a', 'b'\\): send an object"):
        runtime.predict([[1.0, 2.0]])


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"features": [[1.0, 2.0, 3.0, 4.0]]}, "the input names 'features'; the model's input is 'input'"),
        ([["a", "b", "c", "d"]], "input 'input' must be FP32 values"),
        ([[[1.0, 2.0, 3.0, 4.0]]], r"input 'input' has 3 dimension\(s\); the model expects 2 \(shape \[-1, 4\]\)"),
        ([[1.0, 2.0]], "model iris:1 rejected the input"),
    ],
)
def test_bad_payloads(sqlite_workspace: Workspace, iris_onnx: Any, payload: Any, message: str) -> None:
    sqlite_workspace.models.register("iris", obj=iris_onnx)
    runtime = sqlite_workspace.models.load("iris")

    with pytest.raises(InvalidInputError, match=message):
        runtime.predict(payload)
