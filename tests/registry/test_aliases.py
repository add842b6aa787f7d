"""Aliases: ``NAME@ALIAS`` names one version and can be moved; a version in use cannot be deleted by accident."""

from __future__ import annotations

from typing import Any

import pytest

from modelport import ConflictError, InvalidInputError, NotFoundError, Workspace


@pytest.fixture
def three(workspace: Workspace, line_model: Any) -> Workspace:
    for _ in range(3):
        workspace.models.register("line", obj=line_model)
    return workspace


def test_set_move_and_remove(three: Workspace) -> None:
    models = three.models

    assert models.set_alias("line", "production", 1).aliases == ("production",)
    assert models.get("line@production").version == 1

    moved = models.set_alias("line", "production", 2)
    assert (moved.version, moved.aliases) == (2, ("production",))
    assert models.get("line@production").version == 2
    assert models.get("line:1").aliases == ()

    models.remove_alias("line", "production")
    with pytest.raises(NotFoundError, match="model 'line' has no alias 'production'"):
        models.get("line@production")
    assert all(m.aliases == () for m in models.list())


def test_several_aliases_on_one_version(three: Workspace) -> None:
    three.models.set_alias("line", "staging", 3)
    three.models.set_alias("line", "canary", 3)

    assert three.models.get("line:3").aliases == ("canary", "staging")
    assert [m.aliases for m in three.models.list("line")] == [("canary", "staging"), (), ()]


def test_aliases_belong_to_one_model(three: Workspace, line_model: Any) -> None:
    three.models.register("other", obj=line_model)
    three.models.set_alias("line", "prod", 3)
    three.models.set_alias("other", "prod", 1)

    assert three.models.get("line@prod").ref == "line:3"
    assert three.models.get("other@prod").ref == "other:1"


def test_latest_is_reserved_and_always_the_newest(three: Workspace, line_model: Any) -> None:
    with pytest.raises(InvalidInputError, match="alias 'latest' is reserved"):
        three.models.set_alias("line", "latest", 1)

    assert three.models.get("line@latest").version == 3
    three.models.register("line", obj=line_model)
    assert three.models.get("line@latest").version == 4


def test_invalid_alias_names(three: Workspace) -> None:
    for alias in ("", "1st", "pro d", "a/b", "x" * 101):  # every form: see test_refs.py
        with pytest.raises(InvalidInputError, match="invalid alias"):
            three.models.set_alias("line", alias, 1)

    assert all(m.aliases == () for m in three.models.list())


def test_alias_to_a_missing_version_or_model(three: Workspace) -> None:
    with pytest.raises(NotFoundError, match="model 'line' has no version 9"):
        three.models.set_alias("line", "prod", 9)
    with pytest.raises(NotFoundError, match="no model named 'nothing'"):
        three.models.set_alias("nothing", "prod", 1)
    assert all(m.aliases == () for m in three.models.list())


def test_unknown_alias_suggests_known_ones(three: Workspace) -> None:
    three.models.set_alias("line", "production", 2)

    with pytest.raises(NotFoundError, match=r"has no alias 'prod'\. Did you mean 'line@production'\?"):
        three.models.get("line@prod")
    with pytest.raises(NotFoundError, match="has no alias 'staging'"):
        three.models.remove_alias("line", "staging")


def test_delete_refused_while_an_alias_points_at_the_version(three: Workspace) -> None:
    three.models.set_alias("line", "production", 2)

    with pytest.raises(ConflictError, match=r"line:2 is in use as line@production"):
        three.models.delete("line:2")

    assert [m.version for m in three.models.list("line")] == [3, 2, 1]
    assert three.models.get("line@production").version == 2


def test_forced_delete_removes_the_alias(three: Workspace) -> None:
    three.models.set_alias("line", "production", 2)

    deleted = three.models.delete("line:2", force=True)

    assert deleted.aliases == ("production",)
    assert [m.version for m in three.models.list("line")] == [3, 1]
    with pytest.raises(NotFoundError, match="has no alias 'production'"):
        three.models.get("line@production")
    three.models.set_alias("line", "production", 3)  # the name is free again
    assert three.models.get("line@production").version == 3


def test_delete_after_the_alias_moved(three: Workspace) -> None:
    three.models.set_alias("line", "production", 2)
    three.models.set_alias("line", "production", 3)

    three.models.delete("line:2")

    assert [m.version for m in three.models.list("line")] == [3, 1]
