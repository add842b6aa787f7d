"""``GET /swagger.json``: versions 2, 3 and 3.1, schemas from the sample input and output or from a script's
``inference_schema`` decorators, and a ``swagger.json`` beside the entry script in place of the generated one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from modelport import Workspace
from tests.serving.helpers import register_script
from tests.web.helpers import error_of, serve

DECORATED = """
    import numpy as np
    from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
    from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
    from inference_schema.schema_decorators import input_schema, output_schema


    def init():
        pass


    @input_schema("data", NumpyParameterType(np.array([[1.0, 2.0, 3.0]])))
    @input_schema("threshold", StandardPythonParameterType(0.5), optional=True)
    @output_schema(StandardPythonParameterType({"labels": ["cat"]}))
    def run(data, threshold=0.5, request_headers=None):
        return {"labels": ["cat"] * len(data)}
"""

HAND_WRITTEN = {"swagger": "2.0", "info": {"title": "hand-written", "version": "7"}, "paths": {}}
HAND_WRITTEN_3 = {"openapi": "3.0.3", "info": {"title": "hand-written 3", "version": "7"}, "paths": {}}


@pytest.fixture(scope="module")
def models(ws: Workspace, scripts: Path, classifier: Any, rows: np.ndarray) -> Workspace:
    ws.models.register("clf", obj=classifier, sample_input={"data": rows[:2].tolist()}, sample_output=[0, 1])
    ws.models.register("bare", obj=classifier)
    register_script(ws, "decorated", scripts, DECORATED)
    register_script(
        ws,
        "documented",
        scripts,
        "def init():\n    pass\n\n\ndef run(raw):\n    return raw\n",
        code_files={"swagger.json": json.dumps(HAND_WRITTEN), "swagger3.json": json.dumps(HAND_WRITTEN_3)},
    )
    return ws


@pytest.fixture(scope="module")
def clf(models: Workspace) -> Iterator[TestClient]:
    with serve(models, ["clf"], service_name="churn service") as client:
        yield client


def swagger(client: TestClient, version: str | None = None) -> dict[str, Any]:
    response = client.get("/swagger.json", params={"version": version} if version else None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    return document


def test_version_2_is_the_default(clf: TestClient, rows: np.ndarray) -> None:
    document = swagger(clf)

    assert document["swagger"] == "2.0"
    assert document["info"]["title"] == "churn service"
    assert set(document["paths"]) == {"/", "/score"}
    operation = document["paths"]["/score"]["post"]
    assert operation["operationId"] == "RunMLService"
    assert operation["parameters"][0]["schema"] == {"$ref": "#/definitions/ServiceInput"}
    assert operation["responses"]["200"]["schema"] == {"$ref": "#/definitions/ServiceOutput"}
    assert document["definitions"]["ServiceInput"] == {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": {"type": "array", "items": {"type": "number", "format": "double"}}}
        },
        "example": {"data": rows[:2].tolist()},
    }
    assert document["definitions"]["ServiceOutput"] == {
        "type": "array",
        "items": {"type": "integer", "format": "int64"},
        "example": [0, 1],
    }
    assert document["securityDefinitions"]["Bearer"]["in"] == "header"
    assert swagger(clf, "2") == swagger(clf, "2.0") == document


@pytest.mark.parametrize(("version", "openapi"), [("3", "3.0.3"), ("3.0", "3.0.3"), ("3.1", "3.1.0")])
def test_openapi_3(clf: TestClient, version: str, openapi: str) -> None:
    document = swagger(clf, version)

    assert document["openapi"] == openapi
    schemas = document["components"]["schemas"]
    assert set(schemas) == {"ServiceInput", "ServiceOutput", "ErrorResponse"}
    body = document["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ServiceInput"}
    assert schemas["ServiceOutput"]["example"] == [0, 1]


@pytest.mark.parametrize("version", ["5", "1", "abc", "3.2"])
def test_an_unknown_version_is_a_404(clf: TestClient, version: str) -> None:
    message = error_of(clf.get("/swagger.json", params={"version": version}), 404)

    assert message == f"Swagger version [{version}] is not valid. Supported versions: [2, 3, 3.1]."


def test_a_model_without_samples_has_open_schemas(models: Workspace) -> None:
    with serve(models, ["bare"]) as client:
        definitions = swagger(client)["definitions"]

    assert definitions["ServiceInput"] == definitions["ServiceOutput"] == {"type": "object", "example": {}}


def test_the_decorators_of_a_script_give_its_schemas(models: Workspace) -> None:
    with serve(models, ["decorated"]) as client:
        definitions = swagger(client)["definitions"]

    request, response = definitions["ServiceInput"], definitions["ServiceOutput"]
    assert request["type"] == "object"
    assert set(request["properties"]) == {"data", "threshold"}  # request_headers is no input
    assert request["properties"]["data"]["format"] == "numpy.ndarray"
    assert request["example"] == {"data": [[1.0, 2.0, 3.0]], "threshold": 0.5}
    assert response["example"] == {"labels": ["cat"]}
    assert response["properties"]["labels"] == {"type": "array", "items": {"type": "string"}}


def test_swagger_files_beside_the_entry_script_replace_the_generated_ones(models: Workspace) -> None:
    with serve(models, ["documented"]) as client:
        assert swagger(client) == HAND_WRITTEN
        assert swagger(client, "3") == HAND_WRITTEN_3
        assert swagger(client, "3.1")["openapi"] == "3.1.0"  # no swagger3.1.json: generated


def test_several_models_have_a_path_each(models: Workspace) -> None:
    with serve(models, ["clf", "decorated"]) as client:
        document = swagger(client)

    assert set(document["paths"]) == {"/", "/models/clf/score", "/models/decorated/score"}
    assert document["paths"]["/models/clf/score"]["post"]["operationId"] == "RunMLService_clf"
    assert {"ServiceInput_clf", "ServiceOutput_decorated", "ErrorResponse"} <= set(document["definitions"])
