"""The swagger document's schemas, read off example values, and the versions it comes in."""

from __future__ import annotations

from typing import Any

import pytest

from modelport import NotFoundError
from modelport.serving import swagger


@pytest.mark.parametrize(
    ("sample", "schema"),
    [
        (True, {"type": "boolean"}),
        (3, {"type": "integer", "format": "int64"}),
        (2.5, {"type": "number", "format": "double"}),
        ("a", {"type": "string"}),
        ([], {"type": "array", "items": {}}),
        ([[1.0]], {"type": "array", "items": {"type": "array", "items": {"type": "number", "format": "double"}}}),
        (
            {"data": {"age": [30], "ok": [False]}},
            {
                "type": "object",
                "properties": {
                    "data": {
                        "type": "object",
                        "properties": {
                            "age": {"type": "array", "items": {"type": "integer", "format": "int64"}},
                            "ok": {"type": "array", "items": {"type": "boolean"}},
                        },
                    }
                },
            },
        ),
        (None, {}),
    ],
)
def test_schema_of_a_sample(sample: Any, schema: dict[str, Any]) -> None:
    assert swagger.schema_of(sample) == schema


@pytest.mark.parametrize("version", ["2.1", "v3", "3.1.0"])
def test_unknown_versions(version: str) -> None:
    with pytest.raises(NotFoundError) as raised:
        swagger.document([], version, "svc")

    assert str(raised.value) == f"Swagger version [{version}] is not valid. Supported versions: [2, 3, 3.1]."


@pytest.mark.parametrize(("requested", "key", "value"), [(None, "swagger", "2.0"), ("3", "openapi", "3.0.3")])
def test_a_document_without_models_still_has_the_health_path(requested: str | None, key: str, value: str) -> None:
    document = swagger.document([], requested, "svc")

    assert document[key] == value
    assert list(document["paths"]) == ["/"]
    assert document["info"]["title"] == "svc"
