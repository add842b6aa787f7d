"""Azure ML ``score.py`` scripts run unchanged behind ``/score``, in the three styles of ``run``: undecorated
``run(raw)``, ``inference_schema`` decorated ``run(data, ...)`` (with the real ``inference-schema`` package) and
``@rawhttp`` ``run(request)`` returning an ``AMLResponse``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from modelport import Workspace
from modelport.web.errors import SCRIPT_FAILED
from tests.serving.helpers import register_script
from tests.web.helpers import error_of, serve

PLAIN = """
    import json
    import os

    scale = None


    def init():
        global scale
        with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "weights.json")) as f:
            scale = json.load(f)["scale"]


    def run(raw_data, request_headers):
        tenant = request_headers.get("X-Tenant")
        return {"type": type(raw_data).__name__, "raw": raw_data, "scale": scale, "tenant": tenant}
"""

RETURNS = """
    import json


    def init():
        pass


    def run(raw):
        kind = json.loads(raw)["return"]
        return {
            "text": "hello",
            "json-text": json.dumps({"a": 1}),
            "none": None,
            "number": 1.5,
            "list": [1, "two", None],
            "unencodable": object(),
        }[kind]
"""

SCHEMA = """
    import numpy as np
    import pandas as pd
    from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
    from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
    from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
    from inference_schema.schema_decorators import input_schema, output_schema


    def init():
        pass


    @input_schema("data", NumpyParameterType(np.array([[1.0, 2.0, 3.0]])))
    @input_schema("homes", PandasParameterType(pd.DataFrame({"city": ["Oslo"], "rooms": [3]})))
    @input_schema("scale", StandardPythonParameterType(1.0), optional=True)
    @output_schema(StandardPythonParameterType({"total": 6.0, "cities": ["Oslo"]}))
    def run(data, homes, scale=2.0, request_headers=None):
        return {
            "data": [type(data).__name__, str(data.dtype), list(data.shape)],
            "homes": [type(homes).__name__, homes["city"].tolist(), homes["rooms"].tolist()],
            "total": float(data.sum()) * scale,
            "tenant": request_headers.get("X-Tenant"),
        }
"""

RAW = """
    from azureml.contrib.services.aml_request import AMLRequest, rawhttp
    from azureml.contrib.services.aml_response import AMLResponse


    def init():
        pass


    @rawhttp
    def run(request, request_headers=None):
        mode = request.headers.get("X-Mode", "echo")
        if request.method == "GET":
            return AMLResponse("<b>hello " + request.args.get("name", "nobody") + "</b>", 200)
        if mode == "teapot":
            headers = {"Content-Type": "application/problem+json", "X-Teapot": "short, stout"}
            return AMLResponse('{"title": "I am a teapot"}', 418, headers)
        if mode == "unavailable":
            return AMLResponse({"why": "warming up"}, 503, json_str=True)
        if mode == "nothing":
            return AMLResponse(None, 202)
        files = {
            name: [f.filename, f.content_type, f.read().decode()] for name, f in request.files.items()
        }
        return AMLResponse(
            {
                "method": request.method,
                "path": request.path,
                "args": request.args.getlist("q"),
                "text": request.get_data(as_text=True) if not files else None,
                "bytes": len(request.get_data()),
                "json": request.json,
                "files": files,
                "form": request.form,
                "tenant": request.headers["x-tenant"] if "X-Tenant" in request.headers else None,
                "request_headers": request_headers.get("X-Tenant"),
            },
            201,
            {"X-Echo": "a, b"},
            json_str=True,
        )
"""


@pytest.fixture(scope="module")
def client(ws: Workspace, scripts: Path) -> Iterator[TestClient]:
    for name, source in [("plain", PLAIN), ("returns", RETURNS), ("schema", SCHEMA), ("raw", RAW)]:
        register_script(ws, name, scripts, source)
    with serve(ws, ["plain", "returns", "schema", "raw"]) as served:
        yield served


# -- undecorated run(raw) -----------------------------------------------------------------------------------------


def test_post_passes_the_body_as_text(client: TestClient) -> None:
    body = '{"data": [1, 2.5], "note": "naïve"}'

    response = client.post(
        "/models/plain/score", content=body.encode(), headers={"content-type": "text/plain", "x-tenant": "acme"}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"type": "str", "raw": body, "scale": 10, "tenant": "acme"}


def test_get_passes_the_query_as_a_json_object(client: TestClient) -> None:
    response = client.get("/models/plain/score?a=1&a=2&b=x&c=%7B%22z%22%3A%20true%7D&d=")

    result = response.json()
    assert response.status_code == 200, response.text
    assert result["type"] == "str"
    assert json.loads(result["raw"]) == {"a": [1, 2], "b": "x", "c": {"z": True}, "d": ""}


def test_get_without_a_query_passes_an_empty_object(client: TestClient) -> None:
    assert client.get("/models/plain/score").json()["raw"] == "{}"


def test_options_does_not_call_run(client: TestClient) -> None:
    response = client.options("/models/plain/score")

    assert response.status_code == 200
    assert response.content == b""


def test_a_body_that_is_not_utf8_is_a_400(client: TestClient) -> None:
    message = error_of(client.post("/models/plain/score", content=b"\xff\xfe\x00"), 400)

    assert message.startswith("Input cannot be decoded as UTF-8: ")


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("text", b'"hello"'),  # a string is JSON-encoded again, as Azure ML does
        ("json-text", b'"{\\"a\\": 1}"'),
        ("none", b"{}"),  # Azure ML answers None with {}
        ("number", b"1.5"),
        ("list", b'[1,"two",null]'),
    ],
)
def test_what_run_returns_is_sent_as_json(client: TestClient, kind: str, body: bytes) -> None:
    response = client.post("/models/returns/score", json={"return": kind})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.content == body


def test_a_result_that_is_not_json_is_a_generic_500(client: TestClient) -> None:
    response = client.post("/models/returns/score", json={"return": "unencodable"})

    assert error_of(response, 500) == "An unexpected internal error occurred. Check the logs for more info."
    assert "object" not in response.text


# -- @input_schema ------------------------------------------------------------------------------------------------


def test_schema_parameters_are_taken_by_name_and_converted(client: TestClient) -> None:
    payload = {"data": [[1, 2, 3], [4, 5, 6]], "homes": [{"city": "Rome", "rooms": 2}, {"city": "Lima", "rooms": 5}]}

    response = client.post("/models/schema/score", json=payload, headers={"X-Tenant": "acme"})

    assert response.status_code == 200, response.text
    assert response.json() == {
        "data": ["ndarray", "float64", [2, 3]],
        "homes": ["DataFrame", ["Rome", "Lima"], [2, 5]],
        "total": 42.0,  # the default scale, 2.0, of the optional parameter left out
        "tenant": "acme",
    }


def test_an_optional_parameter_may_be_given(client: TestClient) -> None:
    payload = {"data": [[1, 2, 3]], "homes": [{"city": "Rome", "rooms": 2}], "scale": 10}

    response = client.post("/models/schema/score", json=payload)

    assert response.json()["total"] == 60.0


def test_a_json_content_type_with_parameters_is_json(client: TestClient) -> None:
    payload = b'{"data": [[1, 1, 1]], "homes": [{"city": "Rome", "rooms": 2}]}'

    response = client.post(
        "/models/schema/score", content=payload, headers={"content-type": "application/json; charset=utf-8"}
    )

    assert response.json()["total"] == 6.0


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"{}", "text/plain", 415, "Expects Content-Type to be application/json"),
        (b"data=1", "application/x-www-form-urlencoded", 415, "Expects Content-Type to be application/json"),
        (b"", "application/json", 400, "POST body is empty. Expecting a JSON dictionary."),
        (b"[1, 2]", "application/json", 400, "POST body should be a JSON dictionary."),
        (b'{"homes": []}', "application/json", 400, "A value is not provided for the 'data' parameter."),
        (b'{"data": [[1, 2, 3]]}', "application/json", 400, "A value is not provided for the 'homes' parameter."),
    ],
    ids=["text", "form", "empty", "a-list", "missing-data", "missing-homes"],
)
def test_schema_requests_azure_refuses(
    client: TestClient, body: bytes, content_type: str, status: int, message: str
) -> None:
    response = client.post("/models/schema/score", content=body, headers={"content-type": content_type})

    assert error_of(response, status) == message


def test_invalid_json_for_a_schema_says_why(client: TestClient) -> None:
    response = client.post("/models/schema/score", content=b"{nope", headers={"content-type": "application/json"})

    assert error_of(response, 400).startswith("POST body could not be decoded as JSON: ")


def test_a_value_the_schema_cannot_convert_fails_in_run(client: TestClient) -> None:
    payload = {"data": [[1, 2]], "homes": [{"city": "Rome", "rooms": 2}]}  # 2 columns where the sample has 3

    response = client.post("/models/schema/score", json=payload)

    assert error_of(response, 500) == SCRIPT_FAILED  # as in Azure ML: the conversion runs inside run()
    assert response.headers["x-ms-run-function-failed"] == "True"


# -- @rawhttp -----------------------------------------------------------------------------------------------------


def test_rawhttp_run_gets_the_request_and_its_response_passes_through(client: TestClient) -> None:
    response = client.post(
        "/models/raw/score?q=1&q=two",
        json={"x": [1, 2]},
        headers={"X-Tenant": "acme", "Content-Type": "application/json"},
    )

    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers.get_list("x-echo") == ["a", "b"]  # header values are split on commas, as Azure does
    assert response.headers["x-ms-run-function-failed"] == "False"
    assert response.json() == {
        "method": "POST",
        "path": "/models/raw/score",
        "args": ["1", "two"],
        "text": '{"x":[1,2]}',
        "bytes": 11,
        "json": {"x": [1, 2]},
        "files": {},
        "form": {},
        "tenant": "acme",
        "request_headers": "acme",
    }


def test_rawhttp_get_reaches_run(client: TestClient) -> None:
    response = client.get("/models/raw/score", params={"name": "ada"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == "<b>hello ada</b>"


def test_rawhttp_run_receives_uploaded_files(client: TestClient) -> None:
    response = client.post(
        "/models/raw/score",
        files={"image": ("cat.txt", b"meow", "text/plain"), "notes": ("n.csv", b"a,b\n1,2\n", "text/csv")},
        data={"threshold": "0.5"},
    )

    assert response.status_code == 201, response.text
    result = response.json()
    assert result["files"] == {"image": ["cat.txt", "text/plain", "meow"], "notes": ["n.csv", "text/csv", "a,b\n1,2\n"]}
    assert result["form"] == {"threshold": "0.5"}
    assert result["json"] is None


def test_an_aml_response_keeps_its_status_content_type_and_headers(client: TestClient) -> None:
    response = client.post("/models/raw/score", content=b"{}", headers={"X-Mode": "teapot"})

    assert response.status_code == 418
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers.get_list("x-teapot") == ["short", "stout"]
    assert response.json() == {"title": "I am a teapot"}


def test_an_aml_response_with_a_server_error_status_marks_run_as_failed(client: TestClient) -> None:
    response = client.post("/models/raw/score", content=b"{}", headers={"X-Mode": "unavailable"})

    assert response.status_code == 503
    assert response.json() == {"why": "warming up"}
    assert response.headers["x-ms-run-function-failed"] == "True"


def test_an_aml_response_without_a_message_sends_an_empty_object(client: TestClient) -> None:
    response = client.post("/models/raw/score", content=b"{}", headers={"X-Mode": "nothing"})

    assert response.status_code == 202
    assert response.content == b"{}"


def test_rawhttp_options_reaches_run(client: TestClient) -> None:
    response = client.options("/models/raw/score")

    assert response.status_code == 201
    assert response.json()["method"] == "OPTIONS"
