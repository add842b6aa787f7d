"""Names and references (``NAME``, ``NAME:VERSION``, ``NAME@ALIAS``), checked without a database."""

from __future__ import annotations

import pytest

from modelport import InvalidInputError
from modelport.registry.refs import MAX_VERSION, Reference, closest, parse_reference, validate_alias, validate_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("iris", Reference("iris")),
        ("  iris  ", Reference("iris")),
        ("iris:3", Reference("iris", version=3)),
        ("iris:007", Reference("iris", version=7)),
        (f"iris:{MAX_VERSION}", Reference("iris", version=MAX_VERSION)),
        ("iris@production", Reference("iris", alias="production")),
        ("iris@latest", Reference("iris")),
        ("my.model_v2-final", Reference("my.model_v2-final")),
    ],
)
def test_parse_reference(text: str, expected: Reference) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    ("ref", "text"), [(Reference("a"), "a"), (Reference("a", 2), "a:2"), (Reference("a", alias="b"), "a@b")]
)
def test_reference_round_trips(ref: Reference, text: str) -> None:
    assert str(ref) == text
    assert parse_reference(text) == ref


@pytest.mark.parametrize(
    "text",
    [
        "",
        "my model",
        "iris/v1",
        ":1",
        "iris:",
        "iris:0",
        "iris:-1",
        "iris:one",
        "iris:1.5",
        "iris:\u00b2",  # a superscript two: a digit to str.isdigit, not to int()
        "iris:\u0663",  # an Arabic-Indic three
        f"iris:{MAX_VERSION + 1}",
        "iris:99999999999999999999",
        "iris:1:2",
        "iris@",
        "iris@1x",
        "iris@prod@2",
        "@prod",
    ],
)
def test_invalid_references(text: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid"):
        parse_reference(text)


@pytest.mark.parametrize("name", ["a", "A1", "iris", "iris-2.0_final", "0day", "m" * 200])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(
    "name", ["", " ", "my model", "a/b", "a\\b", "../up", "-dash", ".hidden", "_under", "m" * 201, "iris\n", "ïris"]
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidInputError, match=r"invalid environment name .*use 1-200 letters"):
        validate_name(name, "environment")


@pytest.mark.parametrize("alias", ["prod", "Production", "blue-green", "v2_candidate", "a" * 100])
def test_valid_aliases(alias: str) -> None:
    assert validate_alias(alias) == alias


@pytest.mark.parametrize("alias", ["", "1st", "pro d", "a/b", "prod@2", "a" * 101, "_private", "prod\n", "v1.0"])
def test_invalid_aliases(alias: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid alias"):
        validate_alias(alias)


def test_latest_is_a_reserved_alias() -> None:
    with pytest.raises(InvalidInputError, match="alias 'latest' is reserved: NAME@latest always means the newest"):
        validate_alias("latest")


@pytest.mark.parametrize(
    ("name", "candidates", "expected"),
    [
        ("irsi", ["iris", "wine", "digits"], ["iris"]),
        ("IRIS", ["iris", "wine"], ["iris"]),
        ("iris", ["iris-large", "iris-small", "wine"], ["iris-large", "iris-small"]),
        ("zzz", ["iris", "wine"], []),
        ("iris", [], []),
    ],
)
def test_closest(name: str, candidates: list[str], expected: list[str]) -> None:
    assert sorted(closest(name, candidates)) == expected


def test_closest_gives_at_most_three() -> None:
    assert len(closest("m", [f"m{i}" for i in range(10)])) == 3
