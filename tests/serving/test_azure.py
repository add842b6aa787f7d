"""Azure ML ``/score`` semantics without a web framework: what ``run()`` receives in each style, and how what it
returns becomes a reply."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from modelport import InvalidInputError
from modelport.errors import UnsupportedMediaTypeError
from modelport.runtimes import ModelContext
from modelport.runtimes.azureml_compat.contrib.services.aml_request import AMLRequest, UploadedFile
from modelport.runtimes.azureml_compat.contrib.services.aml_response import AMLResponse
from modelport.runtimes.script import ScriptRuntime
from modelport.serving.azure import RawRequest, query_as_json, run_arguments, to_reply

PLAIN = """
    def init():
        pass


    def run(raw):
        return raw
"""

WITH_HEADERS = """
    def run(raw, request_headers):
        return request_headers
"""

SCHEMA = """
    import numpy as np
    from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
    from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
    from inference_schema.schema_decorators import input_schema


    @input_schema("data", NumpyParameterType(np.array([[1.0, 2.0]])))
    @input_schema("top", StandardPythonParameterType(3), optional=True)
    def run(data, top=3, request_headers=None):
        return {"rows": len(data), "top": top}
"""

RAW = """
    from azureml.contrib.services.aml_request import rawhttp


    @rawhttp
    def run(request):
        return request.method
"""


def load(tmp_path: Path, source: str) -> ScriptRuntime:
    (tmp_path / "score.py").write_text(textwrap.dedent(source), encoding="utf-8")
    context = ModelContext(
        name="s", version=1, framework="custom", model_dir=tmp_path, model_path="score.py",
        code_dir=tmp_path, entry_script="score.py",
    )  # fmt: skip
    runtime = ScriptRuntime(context)
    runtime.load()
    return runtime


def post(body: bytes, content_type: str = "application/json", **headers: str) -> RawRequest:
    return RawRequest("POST", "/score", "", [("content-type", content_type), *headers.items()], body)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {}),
        ("a=1&b=2.5&c=true&d=null", {"a": 1, "b": 2.5, "c": True, "d": None}),
        ("name=ada&name=bob&name=cy", {"name": ["ada", "bob", "cy"]}),
        ("rows=%5B%5B1%2C2%5D%5D&blank=", {"rows": [[1, 2]], "blank": ""}),
        ("text=not%20json", {"text": "not json"}),
    ],
)
def test_query_as_json(query: str, expected: dict[str, object]) -> None:
    assert query_as_json(query) == expected


def test_an_undecorated_run_gets_the_body_or_the_query(tmp_path: Path) -> None:
    runtime = load(tmp_path, PLAIN)

    assert run_arguments(runtime, post(b'{"data": [1]}', "text/csv")) == (['{"data": [1]}'], {})
    assert run_arguments(runtime, RawRequest("GET", "/score", "x=1&x=2", [], b"")) == (['{"x":[1,2]}'], {})
    with pytest.raises(InvalidInputError, match=r"^Input cannot be decoded as UTF-8: "):
        run_arguments(runtime, post(b"\xc3\x28"))


def test_request_headers_are_passed_in_title_case(tmp_path: Path) -> None:
    runtime = load(tmp_path, WITH_HEADERS)

    args, kwargs = run_arguments(runtime, post(b"{}", **{"x-tenant": "acme", "authorization": "Bearer k"}))

    assert args == ["{}"]
    assert kwargs == {
        "request_headers": {"Content-Type": "application/json", "X-Tenant": "acme", "Authorization": "Bearer k"}
    }


def test_schema_parameters_by_name(tmp_path: Path) -> None:
    runtime = load(tmp_path, SCHEMA)

    args, kwargs = run_arguments(runtime, post(b'{"data": [[1, 2], [3, 4]], "ignored": 1}'))

    assert args == []
    assert kwargs == {"data": [[1, 2], [3, 4]], "request_headers": {"Content-Type": "application/json"}}
    assert runtime.call_run(*args, **kwargs) == {"rows": 2, "top": 3}  # converted by inference_schema, default top
    _, given = run_arguments(runtime, post(b'{"data": [[1, 2]], "top": 1}'))
    assert runtime.call_run(**given) == {"rows": 1, "top": 1}


@pytest.mark.parametrize(
    ("request_", "error", "message"),
    [
        (post(b"{}", "text/plain"), UnsupportedMediaTypeError, "Expects Content-Type to be application/json"),
        (post(b" "), InvalidInputError, "POST body is empty. Expecting a JSON dictionary."),
        (post(b'"text"'), InvalidInputError, "POST body should be a JSON dictionary."),
        (post(b"{'a': 1}"), InvalidInputError, "POST body could not be decoded as JSON: "),
        (post(b'{"top": 2}'), InvalidInputError, "A value is not provided for the 'data' parameter."),
    ],
    ids=["content-type", "empty", "not-an-object", "bad-json", "missing"],
)
def test_schema_requests_that_are_refused(
    tmp_path: Path, request_: RawRequest, error: type[Exception], message: str
) -> None:
    runtime = load(tmp_path, SCHEMA)

    with pytest.raises(error) as raised:
        run_arguments(runtime, request_)

    assert type(raised.value) is error
    assert str(raised.value).startswith(message)


def test_schema_parameters_from_a_get_query(tmp_path: Path) -> None:
    runtime = load(tmp_path, SCHEMA)

    _, kwargs = run_arguments(runtime, RawRequest("GET", "/score", "data=%5B%5B1%2C2%5D%5D", [], b""))

    assert kwargs["data"] == [[1, 2]]


def test_a_rawhttp_run_gets_the_request(tmp_path: Path) -> None:
    runtime = load(tmp_path, RAW)
    upload = UploadedFile("a.txt", "text/plain", b"hi", "file")
    raw = RawRequest("PUT", "/score", "k=v&k=w", [("X-Key", "1")], b"body", {"field": "x"}, {"file": upload})

    (request,), kwargs = run_arguments(runtime, raw)

    assert kwargs == {}
    assert isinstance(request, AMLRequest)
    assert (request.method, request.path, request.full_path) == ("PUT", "/score", "/score?k=v&k=w")
    assert (request.args["k"], request.args.getlist("k")) == ("v", ["v", "w"])
    assert request.headers["x-key"] == request.headers["X-KEY"] == "1"
    assert request.get_data() == b"body"
    assert request.get_data(as_text=True) == "body"
    assert request.form == {"field": "x"}
    assert request.files["file"].read() == b"hi"
    assert request.json is None
    assert runtime.call_run(request) == "PUT"


def test_the_aml_request_reads_json() -> None:
    request = AMLRequest("POST", "/score", "", [("Content-Type", "application/vnd.api+json")], b'{"a": [1]}')

    assert request.is_json
    assert request.json == request.get_json() == {"a": [1]}
    assert AMLRequest("POST", "/", "", [], b"{}").get_json(force=True) == {}
    with pytest.raises(ValueError, match="not application/json"):
        AMLRequest("POST", "/", "", [], b"{}").get_json()


@pytest.mark.parametrize(
    ("result", "body"),
    [
        ("hello", b'"hello"'),
        (None, b"{}"),
        ({"a": [1, 2]}, b'{"a":[1,2]}'),
        (np.array([1.5, 2.0]), b"[1.5,2.0]"),
        (3, b"3"),
    ],
)
def test_results_are_sent_as_json(result: object, body: bytes) -> None:
    reply = to_reply(result)

    assert (reply.status, reply.body, reply.media_type, reply.headers) == (200, body, "application/json", [])


def test_an_aml_response_as_text() -> None:
    reply = to_reply(AMLResponse("<p>hi</p>", 200, {"X-Tags": "a,b , c", "Cache-Control": "no-store"}))

    assert (reply.status, reply.body, reply.media_type) == (200, b"<p>hi</p>", "text/html; charset=utf-8")
    assert reply.headers == [
        ("x-ms-run-function-failed", "False"),
        ("X-Tags", "a"),
        ("X-Tags", "b"),
        ("X-Tags", "c"),
        ("Cache-Control", "no-store"),
    ]


def test_an_aml_response_as_json_with_its_content_type() -> None:
    reply = to_reply(AMLResponse({"x": 1}, 422, {"Content-Type": "application/problem+json"}, json_str=True))

    assert (reply.status, json.loads(reply.body), reply.media_type) == (422, {"x": 1}, "application/problem+json")
    assert reply.headers == [("x-ms-run-function-failed", "False")]


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        (AMLResponse("ok", 200), "False"),
        (AMLResponse("ok", 200, run_function_failed=True), "True"),
        (AMLResponse("down", 500), "True"),
        (AMLResponse("busy", 503), "True"),
        (AMLResponse("bad", 400), "False"),
    ],
)
def test_run_function_failed(response: AMLResponse, failed: str) -> None:
    assert dict(to_reply(response).headers)["x-ms-run-function-failed"] == failed


def test_an_aml_response_with_bytes_or_nothing() -> None:
    assert to_reply(AMLResponse(b"\x89PNG", 200, {"Content-Type": "image/png"})).body == b"\x89PNG"
    empty = to_reply(AMLResponse(None, 202))
    assert (empty.status, empty.body, empty.media_type) == (202, b"{}", "application/json")
