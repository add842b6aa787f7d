"""A registration that fails at any step leaves no version behind, and takes no version number."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event

from modelport import InvalidInputError, Workspace
from modelport.registry.store import ArtifactStore
from tests.helpers import write_tree


@contextmanager
def failing_statement(ws: Workspace, prefix: str) -> Iterator[None]:
    """Make every SQL statement that starts with ``prefix`` fail, as a full disk or a lost connection would."""

    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(prefix):
            raise RuntimeError("the database went away")

    event.listen(ws.engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(ws.engine, "before_cursor_execute", fail)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "bundle", {"a.txt": "first", "b.txt": "second", "c.txt": "third"})


def test_a_broken_link_half_way_leaves_no_version(workspace: Workspace, line_model: Any, bundle: Path) -> None:
    workspace.models.register("bundle", obj=line_model)
    (bundle / "b2.txt").symlink_to(bundle / "gone.txt")  # read after a.txt and b.txt were stored

    with pytest.raises(InvalidInputError, match="broken link"):
        workspace.models.register("bundle", bundle)

    assert [m.ref for m in workspace.models.list()] == ["bundle:1"]
    (bundle / "b2.txt").unlink()
    assert workspace.models.register("bundle", bundle).version == 2


def test_a_store_failure_on_the_second_file_leaves_no_version(
    workspace: Workspace, bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_put = ArtifactStore.put_file
    calls: list[Path] = []

    def flaky_put(store: ArtifactStore, path: Path) -> tuple[str, int]:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_put(store, path)

    monkeypatch.setattr(ArtifactStore, "put_file", flaky_put)

    with pytest.raises(OSError, match="No space left on device"):
        workspace.models.register("bundle", bundle)

    assert len(calls) == 2
    assert workspace.models.list() == []
    assert workspace.models.names() == []
    monkeypatch.undo()
    version = workspace.models.register("bundle", bundle)
    assert version.version == 1
    assert len(version.files) == 3


@pytest.mark.parametrize("table", ["MODEL_FILES", "MODEL_TAGS", "MODEL_VERSIONS"])
def test_a_database_failure_leaves_no_version(workspace: Workspace, line_model: Any, table: str) -> None:
    workspace.models.register("line", obj=line_model)

    with failing_statement(workspace, f"INSERT INTO {table}"), pytest.raises(RuntimeError, match="went away"):
        workspace.models.register("line", obj=line_model, tags={"stage": "dev"})
    with failing_statement(workspace, f"INSERT INTO {table}"), pytest.raises(RuntimeError, match="went away"):
        workspace.models.register("fresh", obj=line_model, tags={"stage": "dev"})

    assert [m.ref for m in workspace.models.list()] == ["line:1"]
    assert workspace.models.names() == ["line"]  # the new name was rolled back too
    assert workspace.models.register("line", obj=line_model, tags={"stage": "dev"}).version == 2
    assert workspace.models.register("fresh", obj=line_model).version == 1


def test_a_failed_delete_keeps_the_version_and_its_blobs(workspace: Workspace, line_model: Any) -> None:
    workspace.models.register("line", obj=line_model)

    with failing_statement(workspace, "DELETE FROM MODEL_VERSIONS"), pytest.raises(RuntimeError):
        workspace.models.delete("line:1")

    assert [m.ref for m in workspace.models.list()] == ["line:1"]
    np.testing.assert_allclose(workspace.models.load("line:1").predict([[0.0]]), [1.0])


def test_a_database_failure_leaves_no_environment_version(workspace: Workspace) -> None:
    environments = workspace.environments
    environments.register("serve", python="3.11", requirements=["numpy"])

    with failing_statement(workspace, "INSERT INTO ENVIRONMENT_VERSIONS"), pytest.raises(RuntimeError):
        environments.register("serve", python="3.11", requirements=["pandas"])

    assert [e.ref for e in environments.list()] == ["serve:1"]
    assert environments.register("serve", python="3.11", requirements=["pandas"]).version == 2
