"""The Open Inference Protocol (KServe V2) REST routes, in-process: server and model metadata, health, and
inference with JSON tensors and with the binary tensor extension."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from starlette.testclient import TestClient

import modelport
from modelport import Workspace
from modelport.codecs import v2
from tests.serving.helpers import register_script
from tests.web.helpers import error_of, serve


@pytest.fixture(scope="module")
def client(
    ws: Workspace,
    scripts: Path,
    classifier: Any,
    onnx_classifier: Any,
    text_model: Any,
    frame_model: Any,
    rows: np.ndarray,
) -> Iterator[TestClient]:
    ws.models.register("clf", obj=classifier, sample_input={"data": rows[:2].tolist()}, sample_output=[0, 1])
    ws.models.register("onnx", obj=onnx_classifier)
    ws.models.register("text", obj=text_model, sample_input={"data": ["how to join tables"]})
    ws.models.register("frame", obj=frame_model, sample_input={"data": {"age": [30.0], "income": [1.2]}})
    register_script(ws, "script", scripts, "def init():\n    pass\n\n\ndef run(raw):\n    return raw\n")
    with serve(ws, ["clf", "onnx", "text", "frame", "script"]) as served:
        yield served


@pytest.fixture(scope="module")
def session(onnx_classifier: Any) -> Any:
    return ort.InferenceSession(onnx_classifier.SerializeToString(), providers=["CPUExecutionProvider"])


def infer(client: TestClient, model: str, request: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/v2/models/{model}/infer", json=request)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def test_server_metadata_and_health(client: TestClient) -> None:
    metadata = client.get("/v2").json()

    assert metadata["name"] == "modelport"
    assert metadata["version"] == modelport.__version__
    assert "binary_tensor_data" in metadata["extensions"]
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}


def test_model_metadata_comes_from_the_signature(client: TestClient) -> None:
    expected = {
        "name": "clf",
        "versions": ["1"],
        "platform": "sklearn",
        "inputs": [{"name": "input", "datatype": "FP64", "shape": [-1, 3]}],
        "outputs": [{"name": "output", "datatype": "INT64", "shape": [-1]}],
    }

    assert client.get("/v2/models/clf").json() == expected
    assert client.get("/v2/models/clf/versions/1").json() == expected
    assert client.get("/v2/models/clf/ready").json() == {"name": "clf", "ready": True}


def test_onnx_metadata_comes_from_the_graph(client: TestClient) -> None:
    metadata = client.get("/v2/models/onnx").json()

    assert metadata["platform"] == "onnx"
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 3]}]
    assert [o["name"] for o in metadata["outputs"]] == ["label", "probabilities"]


def test_fp64_rows_are_predicted_as_in_process(client: TestClient, classifier: Any, rows: np.ndarray) -> None:
    batch = rows[:8]

    body = infer(
        client,
        "clf",
        {"id": "req-1", "inputs": [{"name": "input", "shape": [8, 3], "datatype": "FP64", "data": batch.tolist()}]},
    )

    assert body["model_name"] == "clf"
    assert body["model_version"] == "1"
    assert body["id"] == "req-1"
    (output,) = body["outputs"]
    assert output == {"name": "output", "datatype": "INT64", "shape": [8], "data": classifier.predict(batch).tolist()}


def test_fp32_tensors_to_an_onnx_model(client: TestClient, session: Any, rows: np.ndarray) -> None:
    batch = rows[:5].astype(np.float32)
    labels, probabilities = session.run(["label", "probabilities"], {"input": batch})

    body = infer(
        client,
        "onnx",
        {"inputs": [{"name": "input", "shape": [5, 3], "datatype": "FP32", "data": batch.reshape(-1).tolist()}]},
    )

    outputs = {o["name"]: o for o in body["outputs"]}
    assert "id" not in body
    assert outputs["label"]["data"] == labels.tolist()
    assert outputs["probabilities"]["datatype"] == "FP32"
    assert outputs["probabilities"]["shape"] == [5, 2]
    np.testing.assert_allclose(np.reshape(outputs["probabilities"]["data"], (5, 2)), probabilities, rtol=1e-6)


def test_only_the_requested_outputs_are_sent(client: TestClient, rows: np.ndarray) -> None:
    request = {
        "inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": rows[0].tolist()}],
        "outputs": [{"name": "probabilities"}],
    }

    body = infer(client, "onnx", request)

    assert [o["name"] for o in body["outputs"]] == ["probabilities"]


def test_bytes_to_a_text_pipeline(client: TestClient, text_model: Any) -> None:
    questions = ["how do I join two sql tables", "python list comprehension"]

    body = infer(client, "text", {"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": questions}]})

    (output,) = body["outputs"]
    assert output["datatype"] == "BYTES"
    assert output["data"] == text_model.predict(questions).tolist() == ["sql", "python"]


def test_one_tensor_per_column_to_a_dataframe_model(client: TestClient, frame_model: Any) -> None:
    columns = {"age": [25.0, 70.0, 44.0], "income": [1.0, 6.0, 2.5]}
    inputs = [{"name": k, "shape": [3], "datatype": "FP64", "data": v} for k, v in columns.items()]

    body = infer(client, "frame", {"inputs": inputs})

    assert body["outputs"][0]["data"] == frame_model.predict(pd.DataFrame(columns)).tolist()


def test_a_script_gets_the_tensors_as_a_json_object(client: TestClient) -> None:
    inputs = [
        {"name": "x", "shape": [1], "datatype": "FP32", "data": [1.5]},
        {"name": "rows", "shape": [2, 2], "datatype": "INT64", "data": [1, 2, 3, 4]},
    ]

    body = infer(client, "script", {"inputs": inputs})

    (output,) = body["outputs"]
    assert output["datatype"] == "BYTES"
    assert json.loads(output["data"][0]) == {"x": 1.5, "rows": [[1, 2], [3, 4]]}  # what run(raw) received


@pytest.mark.parametrize(
    ("model", "request_body", "status", "message"),
    [
        ("nope", {"inputs": []}, 404, "no model named 'nope'. Did you mean 'clf', 'frame', 'onnx', 'script', 'text'?"),
        ("clf", {}, 400, "the body has no 'inputs': expected a list of tensors"),
        (
            "clf",
            {"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP99", "data": [1, 2, 3]}]},
            400,
            "input 'input' has unsupported datatype 'FP99'; the datatypes are ",
        ),
        (
            "clf",
            {"inputs": [{"name": "input", "shape": [2, 3], "datatype": "FP64", "data": [1, 2, 3]}]},
            400,
            "input 'input': shape [2, 3] holds 6 element(s) but data has 3",
        ),
        (
            "onnx",
            {
                "inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}],
                "outputs": [{"name": "nope"}],
            },
            400,
            "the model has no output 'nope'; its outputs are 'label', 'probabilities'",
        ),
    ],
    ids=["unknown-model", "no-inputs", "bad-datatype", "bad-shape", "unknown-output"],
)
def test_errors_carry_an_error_message(
    client: TestClient, model: str, request_body: dict[str, Any], status: int, message: str
) -> None:
    response = client.post(f"/v2/models/{model}/infer", json=request_body)

    assert error_of(response, status).startswith(message)


def test_an_unknown_model_has_no_metadata(client: TestClient) -> None:
    assert error_of(client.get("/v2/models/nope"), 404).startswith("no model named 'nope'")
    assert error_of(client.get("/v2/models/clf/versions/3/ready"), 404).startswith("model 'clf' has no version 3")


def test_binary_tensors_in_and_out(client: TestClient, session: Any, rows: np.ndarray) -> None:
    batch = rows[:4].astype(np.float32)
    labels, probabilities = session.run(["label", "probabilities"], {"input": batch})
    header = json.dumps(
        {
            "id": "bin-1",
            "inputs": [{"name": "input", "shape": [4, 3], "datatype": "FP32", "parameters": {"binary_data_size": 48}}],
            "outputs": [
                {"name": "probabilities", "parameters": {"binary_data": True}},
                {"name": "label", "parameters": {"binary_data": False}},
            ],
        }
    ).encode()

    response = client.post(
        "/v2/models/onnx/infer",
        content=header + batch.astype("<f4").tobytes(),
        headers={"Inference-Header-Content-Length": str(len(header)), "content-type": "application/octet-stream"},
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    decoded = v2.decode_response(response.content, int(response.headers["inference-header-content-length"]))
    outputs = {t.name: t for t in decoded.outputs}
    assert decoded.id == "bin-1"
    assert list(outputs) == ["probabilities", "label"]
    assert outputs["probabilities"].parameters == {"binary_data_size": 32}
    np.testing.assert_array_equal(outputs["probabilities"].data, probabilities)  # exact: no JSON round trip
    np.testing.assert_array_equal(outputs["label"].data, labels)


def test_binary_output_for_every_output(client: TestClient, session: Any, rows: np.ndarray) -> None:
    request = {
        "inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": rows[0].tolist()}],
        "parameters": {"binary_data_output": True},
    }

    response = client.post("/v2/models/onnx/infer", json=request)

    decoded = v2.decode_response(response.content, int(response.headers["inference-header-content-length"]))
    assert all(t.parameters.get("binary_data_size") for t in decoded.outputs)
    (probabilities,) = session.run(["probabilities"], {"input": rows[:1].astype(np.float32)})
    np.testing.assert_array_equal({t.name: t.data for t in decoded.outputs}["probabilities"], probabilities)


def test_a_binary_request_that_does_not_add_up_is_a_400(client: TestClient) -> None:
    tensor = {"name": "input", "shape": [1, 3], "datatype": "FP32", "parameters": {"binary_data_size": 12}}
    header = json.dumps({"inputs": [tensor]}).encode()

    response = client.post(
        "/v2/models/onnx/infer",
        content=header + b"\x00" * 8,
        headers={"Inference-Header-Content-Length": str(len(header))},
    )

    assert error_of(response, 400) == (
        "input 'input': binary_data_size is 12 but only 8 byte(s) of binary data are left for it"
    )
