"""Open Inference Protocol (KServe V2) tensors: requests to arrays, predictions to responses, JSON and binary."""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from scipy import sparse

from modelport import InvalidInputError
from modelport.codecs.signature import Signature, TensorSpec
from modelport.codecs.v2 import (
    DEFAULT_OUTPUT,
    HEADER_LENGTH,
    V2Request,
    V2RequestedOutput,
    V2Tensor,
    decode_request,
    decode_response,
    encode_prediction,
    encode_response,
    inputs_as_payload,
    name_outputs,
    parse_header_length,
    select_outputs,
    to_tensor,
)


def _body(*inputs: dict[str, Any], **extra: Any) -> bytes:
    return orjson.dumps({"inputs": list(inputs), **extra})


def _input(data: Any, datatype: str = "FP32", shape: list[Any] | None = None, name: str = "x") -> dict[str, Any]:
    return {"name": name, "shape": [len(data)] if shape is None else shape, "datatype": datatype, "data": data}


def _error(body: bytes, header_length: int | None = None) -> str:
    with pytest.raises(InvalidInputError) as info:
        decode_request(body, header_length)
    return str(info.value)


def _bytes_tensor(*elements: bytes) -> bytes:
    """BYTES as tritonclient's serialize_byte_tensor writes them: a 4-byte little-endian length before each."""
    return b"".join(struct.pack("<I", len(e)) + e for e in elements)


# One sample per datatype: the JSON data of a [2, 2] tensor and the numpy dtype it decodes to.
SAMPLES = {
    "BOOL": ([True, False, False, True], np.bool_),
    "UINT8": ([0, 1, 254, 255], np.uint8),
    "UINT16": ([0, 1, 2, 65535], np.uint16),
    "UINT32": ([0, 1, 2, 2**32 - 1], np.uint32),
    "UINT64": ([0, 1, 2, 2**64 - 1], np.uint64),
    "INT8": ([-128, -1, 0, 127], np.int8),
    "INT16": ([-(2**15), -1, 0, 2**15 - 1], np.int16),
    "INT32": ([-(2**31), -1, 0, 2**31 - 1], np.int32),
    "INT64": ([-(2**63), -1, 0, 2**63 - 1], np.int64),
    "FP16": ([0.5, -1.0, 0.0, 65504.0], np.float16),
    "FP32": ([0.1, -2.5, 0.0, 3.4e38], np.float32),
    "FP64": ([0.1, -2.5, 1e-300, 1e300], np.float64),
    "BYTES": (["héllo", "", "✓ ünïcode", "a\x00b"], np.object_),
}


@pytest.mark.parametrize("datatype", sorted(SAMPLES))
def test_every_datatype_decodes_to_its_numpy_type(datatype: str) -> None:
    data, dtype = SAMPLES[datatype]

    request = decode_request(_body(_input(data, datatype, [2, 2])))

    tensor = request.inputs[0]
    assert (tensor.name, tensor.datatype, tensor.shape) == ("x", datatype, (2, 2))
    assert tensor.data.dtype == np.dtype(dtype)
    assert tensor.data.shape == (2, 2)
    assert tensor.data.tolist() == np.array(data, dtype=dtype).reshape(2, 2).tolist()


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("datatype", sorted(SAMPLES))
def test_every_datatype_round_trips_through_a_response(datatype: str, binary: bool) -> None:
    data, dtype = SAMPLES[datatype]
    array: np.ndarray[Any, Any] = np.array(data, dtype=dtype).reshape(2, 2)

    body, headers = encode_response("m", "1", None, {"y": array}, binary)
    response = decode_response(body, int(headers[HEADER_LENGTH]) if binary else None)

    (out,) = response.outputs
    assert (out.name, out.datatype, out.shape) == ("y", datatype, (2, 2))
    assert out.data.dtype == array.dtype
    assert out.data.tolist() == array.tolist()


def test_nested_and_flat_data_decode_alike() -> None:
    flat = decode_request(_body(_input([1, 2, 3, 4, 5, 6], "INT64", [2, 3]))).inputs[0].data
    nested = decode_request(_body(_input([[1, 2, 3], [4, 5, 6]], "INT64", [2, 3]))).inputs[0].data
    deeper = decode_request(_body(_input([[[1], [2], [3]], [[4], [5], [6]]], "INT64", [2, 3, 1]))).inputs[0].data
    uneven = decode_request(_body(_input([1, [2, 3], [[4, 5], 6]], "INT64", [2, 3]))).inputs[0].data  # as Triton

    assert flat.tolist() == nested.tolist() == uneven.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert deeper.shape == (2, 3, 1)
    assert deeper.reshape(-1).tolist() == [1, 2, 3, 4, 5, 6]


def test_data_nested_deeper_than_pythons_stack_is_flattened() -> None:
    data = b"[" * 1020 + b"1.5" + b"]" * 1020
    body = b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": ' + data + b"}]}"

    tensor = decode_request(body).inputs[0]

    assert tensor.data.tolist() == [1.5]


def test_empty_and_scalar_shapes() -> None:
    request = decode_request(
        _body(_input([], "FP32", [0, 3], name="none"), _input([7], "INT32", [], name="scalar"), _input([], "BYTES"))
    )

    empty, scalar, text = request.inputs
    assert empty.data.shape == (0, 3) and empty.data.dtype == np.float32
    assert scalar.data.shape == () and scalar.data.item() == 7
    assert text.data.shape == (0,) and text.data.dtype == np.object_


def test_request_fields_are_kept() -> None:
    body = _body(
        {**_input([1.0]), "parameters": {"content_type": "np"}},
        id="req-7",
        parameters={"binary_data_output": True, "custom": 3},
        outputs=[{"name": "a"}, {"name": "b", "parameters": {"binary_data": False}}],
    )

    request = decode_request(body)

    assert request.id == "req-7"
    assert request.parameters == {"binary_data_output": True, "custom": 3}
    assert request.inputs[0].parameters == {"content_type": "np"}
    assert request.outputs == (V2RequestedOutput("a"), V2RequestedOutput("b", {"binary_data": False}))
    assert request.output_names == ["a", "b"]


@pytest.mark.parametrize(
    ("parameters", "outputs", "binary"),
    [
        ({}, [], set()),
        ({"binary_data_output": True}, [], {"a", "b", "c"}),
        ({}, [{"name": "a", "parameters": {"binary_data": True}}, {"name": "b"}], {"a"}),
        (
            {"binary_data_output": True},
            [{"name": "a", "parameters": {"binary_data": False}}, {"name": "b"}],
            {"b", "c"},
        ),
    ],
)
def test_binary_outputs_follow_the_output_then_the_request(
    parameters: dict[str, Any], outputs: list[dict[str, Any]], binary: set[str]
) -> None:
    request = decode_request(_body(_input([1.0]), parameters=parameters, outputs=outputs))

    assert request.binary_outputs(["a", "b", "c"]) == binary


# -- the binary tensor extension -------------------------------------------------------------------------------------

# Captured from tritonclient[http] 2.73.0 (http._utils._get_inference_request) for InferInput("x", [2, 2], "INT64"),
# ("text", [2], "BYTES") with ["héllo", "✓"] and ("flag", [2], "BOOL"), all set_data_from_numpy(a) (binary by
# default), and InferRequestedOutput("probabilities"). It sent Inference-Header-Content-Length: 332.
TRITONCLIENT_BODY = (
    b'{"inputs":[{"name":"x","shape":[2,2],"datatype":"INT64","parameters":{"binary_data_size":32}},'
    b'{"name":"text","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":17}},'
    b'{"name":"flag","shape":[2],"datatype":"BOOL","parameters":{"binary_data_size":2}}],'
    b'"outputs":[{"name":"probabilities","parameters":{"binary_data":true}}]}'
    b"\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00"
    b"\x04\x00\x00\x00\x00\x00\x00\x00\x06\x00\x00\x00h\xc3\xa9llo\x03\x00\x00\x00\xe2\x9c\x93\x01\x00"
)


def test_a_request_from_tritonclient_decodes() -> None:
    request = decode_request(TRITONCLIENT_BODY, 332)

    x, text, flag = request.inputs
    assert x.datatype == "INT64" and x.data.dtype == np.int64 and x.data.tolist() == [[1, 2], [3, 4]]
    assert text.data.tolist() == ["héllo", "✓"]
    assert flag.data.dtype == np.bool_ and flag.data.tolist() == [True, False]
    assert request.binary_outputs(["probabilities"]) == {"probabilities"}


def test_binary_inputs_mix_with_json_inputs_in_order() -> None:
    floats = np.array([[1.5, -2.0], [np.inf, 0.1]], dtype="<f4")
    header = _body(
        {"name": "a", "shape": [2, 2], "datatype": "FP32", "parameters": {"binary_data_size": 16}},
        _input([1, 2], "INT8", name="b"),
        {"name": "c", "shape": [3], "datatype": "BYTES", "parameters": {"binary_data_size": 4 * 3 + 5}},
    )
    tail = floats.tobytes() + _bytes_tensor(b"\xff\xfe", b"", "✓".encode())

    a, b, c = decode_request(header + tail, len(header)).inputs

    assert a.data.dtype == np.float32 and a.data.tolist() == floats.tolist()
    assert a.data.flags.writeable  # a copy, not a view of the request body
    assert b.data.tolist() == [1, 2]
    assert c.data.tolist() == [b"\xff\xfe", "", "✓"]  # not UTF-8: kept as bytes


def test_big_endian_hosts_are_not_assumed() -> None:
    header = _body({"name": "x", "shape": [2], "datatype": "UINT16", "parameters": {"binary_data_size": 4}})

    (x,) = decode_request(header + b"\x01\x00\x00\x01", len(header)).inputs

    assert x.data.tolist() == [1, 256]
    assert x.data.dtype.isnative


def test_a_header_length_covering_the_whole_body_is_plain_json() -> None:
    body = _body(_input([1.0, 2.0]))

    assert decode_request(body, len(body)).inputs[0].data.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("0", 0), (" 332 ", 332), ("12345678901234", 12345678901234)]
)
def test_header_length_values(value: str | None, expected: int | None) -> None:
    assert parse_header_length(value) == expected


@pytest.mark.parametrize("value", ["", "-1", "abc", "1.5", "0x10"])
def test_bad_header_length_values(value: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_header_length(value)

    assert str(info.value) == f"the Inference-Header-Content-Length header must be a byte count, got {value!r}"


# -- NaN and infinity --------------------------------------------------------------------------------------------------


def test_null_in_floating_point_data_is_nan() -> None:
    (x,) = decode_request(_body(_input([1.0, None, 3], "FP32"))).inputs

    assert x.data.dtype == np.float32
    assert math.isnan(x.data[1]) and x.data[[0, 2]].tolist() == [1.0, 3.0]


def test_bare_nan_and_infinity_as_triton_writes_them_are_read() -> None:
    body = b'{"inputs":[{"name":"x","shape":[3],"datatype":"FP64","data":[NaN,Infinity,-Infinity]}]}'

    (x,) = decode_request(body).inputs

    assert math.isnan(x.data[0]) and x.data[1:].tolist() == [math.inf, -math.inf]


def test_nan_and_infinity_are_null_in_json_and_exact_in_binary() -> None:
    values = np.array([np.nan, np.inf, -np.inf, 1.5], dtype=np.float32)

    body, headers = encode_response("m", None, None, {"y": values}, False)
    raw, raw_headers = encode_response("m", None, None, {"y": values}, True)

    assert orjson.loads(body)["outputs"][0]["data"] == [None, None, None, 1.5]
    assert headers == {"content-type": "application/json"}
    tail = raw[int(raw_headers[HEADER_LENGTH]) :]
    exact = np.frombuffer(tail, dtype="<f4")
    assert math.isnan(exact[0]) and exact[1:].tolist() == [math.inf, -math.inf, 1.5]


# -- responses -----------------------------------------------------------------------------------------------------


def test_a_json_response_has_flat_data_and_the_protocol_fields() -> None:
    body, headers = encode_response(
        "iris", 3, "req-1", [("label", np.array([[1, 2], [3, 4]])), ("p", np.array([0.1], dtype=np.float32))]
    )

    assert headers == {"content-type": "application/json"}
    assert orjson.loads(body) == {
        "model_name": "iris",
        "model_version": "3",
        "id": "req-1",
        "outputs": [
            {"name": "label", "datatype": "INT64", "shape": [2, 2], "data": [1, 2, 3, 4]},
            {"name": "p", "datatype": "FP32", "shape": [1], "data": [0.1]},  # float32 written as its shortest form
        ],
    }


def test_optional_response_fields() -> None:
    body, _ = encode_response("m", None, None, {}, parameters={"sequence_end": True})

    assert orjson.loads(body) == {"model_name": "m", "parameters": {"sequence_end": True}, "outputs": []}


def test_binary_outputs_follow_the_json_in_order() -> None:
    scores = np.array([[0.25, 0.75]], dtype=np.float64)
    outputs = {"scores": scores, "label": np.array(["yes"]), "raw": np.array([b"\x00\xff", b""], dtype=object)}

    body, headers = encode_response("m", "1", None, outputs, {"scores", "raw"})

    assert headers["content-type"] == "application/octet-stream"
    size = int(headers[HEADER_LENGTH])
    doc = orjson.loads(body[:size])
    assert doc["outputs"] == [
        {"name": "scores", "datatype": "FP64", "shape": [1, 2], "parameters": {"binary_data_size": 16}},
        {"name": "label", "datatype": "BYTES", "shape": [1], "data": ["yes"]},
        {"name": "raw", "datatype": "BYTES", "shape": [2], "parameters": {"binary_data_size": 10}},
    ]
    tail = body[size:]
    assert np.frombuffer(tail[:16], dtype="<f8").reshape(1, 2).tolist() == [[0.25, 0.75]]
    assert tail[16:] == _bytes_tensor(b"\x00\xff", b"")


def test_bytes_outputs_in_binary_are_utf8() -> None:
    body, headers = encode_response("m", None, None, {"t": np.array(["héllo", "✓"])}, True)

    assert body[int(headers[HEADER_LENGTH]) :] == _bytes_tensor("héllo".encode(), "✓".encode())


@pytest.mark.parametrize(
    ("value", "datatype", "shape", "data"),
    [
        (3.5, "FP64", [1], [3.5]),
        (7, "INT64", [1], [7]),
        (True, "BOOL", [1], [True]),
        (np.float32(0.5), "FP32", [1], [0.5]),
        ("positive", "BYTES", [1], ["positive"]),
        ([1, 2, 3], "INT64", [3], [1, 2, 3]),
        ([[0.5, 0.5]], "FP64", [1, 2], [0.5, 0.5]),
        (["a", "b"], "BYTES", [2], ["a", "b"]),
        ([{0: 0.25, 1: 0.75}, {0: 1.0, 1: 0.0}], "BYTES", [2], ['{"0":0.25,"1":0.75}', '{"0":1.0,"1":0.0}']),
        ({"label": "cat"}, "BYTES", [1], ['{"label":"cat"}']),
        ([[1, 2], [3]], "BYTES", [2], ["[1,2]", "[3]"]),
        (np.array([1, None, "x"], dtype=object), "BYTES", [3], ["1", "null", "x"]),
        (np.array(["2024-01-02"], dtype="datetime64[D]"), "BYTES", [1], ["2024-01-02"]),
        (np.array([1, 2], dtype=">i4"), "INT32", [2], [1, 2]),
        (pd.Series([0.5, 1.5]), "FP64", [2], [0.5, 1.5]),
        (pd.DataFrame({"a": [1, 2], "b": [3, 4]}), "INT64", [2, 2], [1, 3, 2, 4]),
        (sparse.csr_matrix([[0.0, 1.0], [2.0, 0.0]]), "FP64", [2, 2], [0.0, 1.0, 2.0, 0.0]),
    ],
)
def test_results_that_are_not_tensors(value: Any, datatype: str, shape: list[int], data: list[Any]) -> None:
    body, _ = encode_response("m", None, None, {"y": value})

    assert orjson.loads(body)["outputs"] == [{"name": "y", "datatype": datatype, "shape": shape, "data": data}]


def test_to_tensor_returns_native_arrays() -> None:
    datatype, array = to_tensor("y", np.array([1.0], dtype=">f8"))

    assert datatype == "FP64" and array.dtype.isnative and array.tolist() == [1.0]


def test_outputs_the_protocol_cannot_carry() -> None:
    with pytest.raises(TypeError, match=r"output 'z' is a complex128 array"):
        encode_response("m", None, None, {"z": np.array([1j])})
    with pytest.raises(TypeError, match=r"output 'o': the result cannot be encoded as JSON"):
        encode_response("m", None, None, {"o": [object()]})


def test_bytes_that_are_not_utf8_need_binary_output() -> None:
    with pytest.raises(InvalidInputError) as info:
        encode_response("m", None, None, {"raw": np.array([b"\xff"], dtype=object)})

    assert str(info.value) == (
        "output 'raw' holds bytes that are not UTF-8, which JSON cannot carry: ask for it in binary "
        "(parameters.binary_data: true)"
    )


# -- payloads and output names -------------------------------------------------------------------------------------


def _request(*tensors: tuple[str, str, Any], outputs: tuple[str, ...] = ()) -> V2Request:
    inputs = tuple(V2Tensor(n, d, np.asarray(a).shape, np.asarray(a)) for n, d, a in tensors)
    return V2Request(inputs, tuple(V2RequestedOutput(o) for o in outputs))


def test_a_single_input_is_its_array() -> None:
    rows = np.array([[1.0, 2.0], [3.0, 4.0]])

    assert inputs_as_payload(_request(("x", "FP64", rows))) is rows


def test_a_single_text_column_is_a_list_of_strings() -> None:
    payload = inputs_as_payload(decode_request(_body(_input(["how do I sort", "read a csv"], "BYTES"))))

    assert payload == ["how do I sort", "read a csv"]


def test_inputs_that_are_columns_of_a_table_become_1d_columns() -> None:
    request = _request(
        ("age", "INT64", np.array([[30], [40]])), ("city", "BYTES", np.array(["Oslo", "Rome"], dtype=object))
    )

    payload = inputs_as_payload(request)

    assert list(payload) == ["age", "city"]
    assert payload["age"].shape == (2,) and payload["age"].tolist() == [30, 40]
    assert payload["city"].tolist() == ["Oslo", "Rome"]


@pytest.mark.parametrize(
    "shapes",
    [[(2, 3), (2,)], [(2,), (3,)], [(2, 1), (2, 2)], [(), (1,)]],
)
def test_other_inputs_keep_their_shapes(shapes: list[tuple[int, ...]]) -> None:
    request = _request(*((f"in{i}", "FP32", np.zeros(s, dtype=np.float32)) for i, s in enumerate(shapes)))

    payload = inputs_as_payload(request)

    assert [payload[f"in{i}"].shape for i in range(len(shapes))] == shapes


@pytest.mark.parametrize(
    ("result", "signature", "names"),
    [
        (np.array([1]), None, [DEFAULT_OUTPUT]),
        (np.array([1]), Signature(outputs=[TensorSpec("label", "INT64", [-1])]), ["label"]),
        (
            np.array([1]),
            Signature(outputs=[TensorSpec("a", "INT64", [-1]), TensorSpec("b", "FP32", [-1])]),
            [DEFAULT_OUTPUT],
        ),
        (
            (np.array([1]), np.array([0.5])),
            Signature(outputs=[TensorSpec("label", "INT64", [-1]), TensorSpec("p", "FP32", [-1])]),
            ["label", "p"],
        ),
        ({"label": [1], "probabilities": [[0.5, 0.5]]}, None, ["label", "probabilities"]),
        ({0: [1], 1: [2]}, Signature(outputs=[TensorSpec("x", "INT64", [-1])]), ["0", "1"]),
    ],
)
def test_output_names(result: Any, signature: Signature | None, names: list[str]) -> None:
    assert [name for name, _ in name_outputs(result, signature)] == names


def test_requested_outputs_are_selected_in_the_order_asked() -> None:
    outputs = [("label", 1), ("probabilities", 2), ("margin", 3)]

    assert select_outputs(outputs, []) == outputs
    assert select_outputs(outputs, ["margin", "label"]) == [("margin", 3), ("label", 1)]


def test_an_unknown_requested_output_names_the_available_ones() -> None:
    with pytest.raises(InvalidInputError) as info:
        select_outputs([("label", 1), ("probabilities", 2)], ["label", "proba", "score"])

    assert str(info.value) == "the model has no output 'proba', 'score'; its outputs are 'label', 'probabilities'"


def test_a_prediction_becomes_the_response_the_request_asked_for() -> None:
    body = _body(
        _input([[5.1, 3.5], [6.2, 2.9]], "FP64", [2, 2]),
        id="r-9",
        outputs=[{"name": "probabilities", "parameters": {"binary_data": True}}],
    )
    request = decode_request(body)
    result = {"label": np.array([0, 1]), "probabilities": np.array([[0.9, 0.1], [0.2, 0.8]], dtype=np.float32)}

    data, headers = encode_prediction(request, result, "iris", 2, None)

    response = decode_response(data, int(headers[HEADER_LENGTH]))
    assert (response.model_name, response.model_version, response.id) == ("iris", "2", "r-9")
    assert [o.name for o in response.outputs] == ["probabilities"]
    assert response.outputs[0].data.tolist() == result["probabilities"].tolist()


# -- malformed requests --------------------------------------------------------------------------------------------

_BIN = {"name": "x", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the inference request is not valid JSON: "),
        (b"{", "the inference request is not valid JSON: "),
        (b"[1]", "the inference request must be a JSON object, not a list [1]"),
        (b"{}", "the body has no 'inputs': expected a list of tensors"),
        (b'{"inputs": []}', "'inputs' must be a non-empty list of tensors, not a list []"),
        (b'{"inputs": {"x": 1}}', "'inputs' must be a non-empty list of tensors, not an object {'x': 1}"),
        (b'{"inputs": [1]}', "inputs[0] must be an object with a name, shape, datatype and data"),
        (_body({"shape": [1], "datatype": "FP32", "data": [1]}), "inputs[0] must be an object with a name"),
        (_body({"name": "x", "shape": [1], "data": [1]}), "input 'x' has no datatype"),
        (
            _body(_input([1], "FLOAT")),
            "input 'x' has unsupported datatype 'FLOAT'; the datatypes are BOOL, UINT8, UINT16, UINT32, UINT64, INT8, "
            "INT16, INT32, INT64, FP16, FP32, FP64, BYTES",
        ),
        (_body(_input([1], "BF16")), "input 'x' has unsupported datatype 'BF16' (numpy has no bfloat16: send FP32)"),
        (
            _body({"name": "x", "datatype": "FP32", "data": [1]}),
            "input 'x': shape must be a list of non-negative integers, not null",
        ),
        (_body(_input([1], shape=[-1])), "input 'x': shape must be a list of non-negative integers, not a list [-1]"),
        (_body(_input([1], shape=[1.0])), "input 'x': shape must be a list of non-negative integers, not a list [1.0]"),
        (_body(_input([1], shape=[True])), "input 'x': shape must be a list of non-negative integers"),
        (
            _body({"name": "x", "shape": [1], "datatype": "FP32"}),
            "input 'x' has no data (nor parameters.binary_data_size)",
        ),
        (_body(_input(1, shape=[1])), "input 'x': data must be a list (flat or nested), not a number 1"),
        (_body(_input([1, 2, 3], shape=[2, 2])), "input 'x': shape [2, 2] holds 4 element(s) but data has 3"),
        (_body(_input([[1, 2], [3]], shape=[2, 2])), "input 'x': shape [2, 2] holds 4 element(s) but data has 3"),
        (
            _body(_input([1.0, "2.5"], "FP32")),
            "input 'x': FP32 data must be numbers (or null for NaN); element 1 is a string '2.5'",
        ),
        (
            _body(_input([1.0, True], "FP64")),
            "input 'x': FP64 data must be numbers (or null for NaN); element 1 is a boolean True",
        ),
        (_body(_input([1, 2.0], "INT64")), "input 'x': INT64 data must be integers; element 1 is a number 2.0"),
        (_body(_input([1, None], "INT32")), "input 'x': INT32 data must be integers; element 1 is null"),
        (_body(_input([1, 0], "BOOL")), "input 'x': BOOL data must be true or false; element 0 is a number 1"),
        (_body(_input(["a", 1], "BYTES")), "input 'x': BYTES data must be strings; element 1 is a number 1"),
        (_body(_input([{"a": 1}], "BYTES")), "input 'x': BYTES data must be strings; element 0 is an object {'a': 1}"),
        (
            _body(_input(["x" * 100], "FP32")),
            "input 'x': FP32 data must be numbers (or null for NaN); element 0 is a string '" + "x" * 36 + "...",
        ),
        (_body(_input([256], "UINT8")), "input 'x': 256 is out of range for UINT8"),
        (_body(_input([-1, 3], "UINT64")), "input 'x': -1 is out of range for UINT64"),
        (_body(_input([2**63], "INT64")), "input 'x': 9223372036854775808 is out of range for INT64"),
        (_body(_input([1e300], "FP32")), "input 'x': a value is out of range for FP32"),
        (_body(_input([70000], "FP16")), "input 'x': a value is out of range for FP16"),
        (_body(_input([1]), _input([2])), "input 'x' appears more than once"),
        (_body(_input([1]), id=5), "the request's id must be a string, not a number 5"),
        (_body(_input([1]), parameters=[1]), "the request: parameters must be an object, not a list [1]"),
        (
            _body(_input([1]), parameters={"binary_data_output": "yes"}),
            "the request's parameters.binary_data_output must be true or false",
        ),
        (
            _body({**_input([1]), "parameters": {"shared_memory_region": "r"}}),
            "input 'x': the shared memory extension is not supported; send the data in the body",
        ),
        (
            _body({**_BIN, "data": [1, 2]}),
            "input 'x' has both data and parameters.binary_data_size; send one",
        ),
        (
            _body({**_BIN, "parameters": {"binary_data_size": "8"}}),
            "input 'x': parameters.binary_data_size must be a byte count, not a string '8'",
        ),
        (
            _body(_BIN),
            "input 'x' has parameters.binary_data_size but there is no Inference-Header-Content-Length header",
        ),
        (_body(_input([1]), outputs={"name": "y"}), "the request's outputs must be a list of {'name': ...} objects"),
        (_body(_input([1]), outputs=[{"parameters": {}}]), "outputs[0] must be an object with a name"),
        (_body(_input([1]), outputs=[{"name": "y"}, {"name": "y"}]), "requested output 'y' appears more than once"),
        (
            _body(_input([1]), outputs=[{"name": "y", "parameters": {"binary_data": 1}}]),
            "requested output 'y': parameters.binary_data must be true or false",
        ),
        (
            _body(_input([1]), outputs=[{"name": "y", "parameters": {"classification": 3}}]),
            "requested output 'y': the classification extension is not supported",
        ),
    ],
)
def test_malformed_requests(body: bytes, message: str) -> None:
    assert _error(body).startswith(message)


def _binary(*inputs: dict[str, Any], tail: bytes) -> tuple[bytes, int]:
    header = _body(*inputs)
    return header + tail, len(header)


@pytest.mark.parametrize(
    ("body_and_length", "message"),
    [
        (
            _binary(_BIN, tail=b"\x00" * 4),
            "input 'x': binary_data_size is 8 but only 4 byte(s) of binary data are left for it",
        ),
        (
            _binary(_BIN, tail=b"\x00" * 12),
            "the body holds 12 byte(s) after the JSON header but the tensors' binary_data_size add up to 8",
        ),
        (
            _binary(_input([1.0]), tail=b"junk"),
            "the body holds 4 byte(s) after the JSON header but the tensors' binary_data_size add up to 0",
        ),
        (
            _binary({**_BIN, "parameters": {"binary_data_size": 6}}, tail=b"\x00" * 6),
            "input 'x': shape [2] of FP32 takes 8 byte(s) but binary_data_size is 6",
        ),
        (
            _binary({**_BIN, "datatype": "BOOL", "parameters": {"binary_data_size": 2}}, tail=b"\x01\x02"),
            "input 'x': binary BOOL data must be bytes 0 or 1",
        ),
        (
            _binary({**_BIN, "datatype": "BYTES", "parameters": {"binary_data_size": 6}}, tail=_bytes_tensor(b"ab")),
            "input 'x': 2 BYTES element(s) need at least 8 bytes, got 6",
        ),
        (
            _binary(
                {**_BIN, "datatype": "BYTES", "parameters": {"binary_data_size": 9}},
                tail=_bytes_tensor(b"abcde") + b"\x00",
            ),
            "input 'x': the binary data ends before BYTES element 1",
        ),
        (
            _binary(
                {**_BIN, "datatype": "BYTES", "parameters": {"binary_data_size": 10}},
                tail=struct.pack("<I", 9) + b"abc" + _bytes_tensor(b""),
            ),
            "input 'x': BYTES element 0 claims 9 byte(s) but 6 are left",
        ),
        (
            _binary(
                {**_BIN, "datatype": "BYTES", "parameters": {"binary_data_size": 11}},
                tail=_bytes_tensor(b"a", b"b") + b"!",
            ),
            "input 'x': 1 byte(s) are left after its 2 BYTES element(s)",
        ),
        (
            (b'{"inputs": []}', 99),
            "Inference-Header-Content-Length is 99 but the body has 14 byte(s)",
        ),
        (
            (b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [NaN]}', None),
            "the inference request is not valid JSON: ",
        ),
    ],
)
def test_malformed_binary_requests(body_and_length: tuple[bytes, int | None], message: str) -> None:
    assert _error(*body_and_length).startswith(message)


@pytest.mark.parametrize(
    "doc",
    [{"outputs": []}, {"model_name": 1, "outputs": []}, {"model_name": "m", "model_version": 3, "outputs": []}],
)
def test_malformed_responses(doc: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError) as info:
        decode_response(orjson.dumps(doc))

    assert str(info.value) == "the response's model_name, model_version and id must be strings"


def test_a_negative_header_length_is_refused() -> None:
    assert _error(b"{}", -1) == "Inference-Header-Content-Length is -1 but the body has 2 byte(s)"
