"""``get_many``: many references in one read, each resolved as ``get`` resolves it, errors included."""

from __future__ import annotations

from typing import Any

import pytest

from modelport import ModelportError, Workspace


@pytest.fixture
def models(workspace: Workspace, line_model: Any) -> Workspace:
    for _ in range(3):
        workspace.models.register("line", obj=line_model)
    workspace.models.register("other", obj=line_model)
    workspace.models.set_alias("line", "production", 2)
    return workspace


def test_each_reference_as_get_answers_it(models: Workspace) -> None:
    refs = ["line", "line:1", "line@production", "line@latest", "other"]

    found = models.models.get_many(refs)

    assert list(found) == refs
    assert found == {ref: models.models.get(ref) for ref in refs}
    assert found["line"].version == 3


def test_the_newest_left_after_a_delete(models: Workspace) -> None:
    models.models.delete("line:3")

    assert models.models.get_many(["line"])["line"].version == 2


def test_errors_are_the_ones_get_raises(models: Workspace) -> None:
    refs = ["lien", "line:9", "line@nope", "bad name", "line"]

    found = models.models.get_many(refs)

    for ref in refs[:-1]:
        with pytest.raises(ModelportError) as raised:
            models.models.get(ref)
        error = found[ref]
        assert isinstance(error, type(raised.value)) and str(error) == str(raised.value)
    assert not isinstance(found["line"], ModelportError)


def test_more_references_than_one_query_holds(workspace: Workspace, line_model: Any) -> None:
    names = [f"m{i}" for i in range(1203)]
    for name in names[:3]:
        workspace.models.register(name, obj=line_model)

    found = workspace.models.get_many(names)

    assert [found[n].name for n in names[:3]] == names[:3]
    assert all(isinstance(found[n], ModelportError) for n in names[3:])
