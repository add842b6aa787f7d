"""Artifacts are checked against their sha256 whenever they leave the store or the cache."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelport import IntegrityError, NotFoundError, Workspace
from modelport.registry.store import ArtifactStore
from tests.helpers import DAMAGES, blob_of, files_under, write_tree

Damage = Callable[[Path], None]


@pytest.fixture(params=sorted(DAMAGES))
def damage(request: pytest.FixtureRequest) -> Damage:
    """Flip one byte of a file, or cut it in half."""
    return DAMAGES[request.param]


def test_load_refuses_a_tampered_blob(workspace: Workspace, line_model: Any, damage: Damage) -> None:
    version = workspace.models.register("line", obj=line_model)
    damage(blob_of(workspace, version, "model.joblib"))

    with pytest.raises(IntegrityError) as raised:
        workspace.models.load("line")

    message = str(raised.value)
    assert message.startswith("artifact line:1/model.joblib failed verification: expected sha256 ")
    assert version.files[0].sha256 in message
    assert f"and {version.size} bytes" in message
    assert "tampered with or truncated, and was not loaded" in message
    assert raised.value.code == "integrity_error"
    assert files_under(workspace.cache_dir) == []  # no partial file or folder is left behind


def test_download_refuses_a_tampered_blob(workspace: Workspace, tmp_path: Path, damage: Damage) -> None:
    folder = write_tree(tmp_path / "bundle", {"a.txt": "first", "b.txt": "second", "z.bin": b"last" * 100})
    version = workspace.models.register("bundle", folder)
    damage(blob_of(workspace, version, "bundle/z.bin"))
    out = tmp_path / "downloads"
    out.mkdir()

    with pytest.raises(IntegrityError, match=r"artifact bundle:1/bundle/z\.bin failed verification"):
        workspace.models.download("bundle", out / "bundle")

    assert list(out.iterdir()) == []  # neither the destination nor the files written before the bad one


def test_download_into_an_empty_folder_keeps_it_empty_on_failure(
    workspace: Workspace, line_model: Any, tmp_path: Path
) -> None:
    version = workspace.models.register("line", obj=line_model)
    DAMAGES["truncated"](blob_of(workspace, version, "model.joblib"))
    downloads = tmp_path / "downloads"
    (downloads / "out").mkdir(parents=True)

    with pytest.raises(IntegrityError):
        workspace.models.download("line", downloads / "out")

    assert list(downloads.iterdir()) == [downloads / "out"]
    assert list((downloads / "out").iterdir()) == []


def test_a_tampered_cached_copy_is_healed_from_the_store(
    workspace: Workspace, line_model: Any, damage: Damage, caplog: pytest.LogCaptureFixture
) -> None:
    version = workspace.models.register("line", obj=line_model)
    workspace.models.load("line")
    cached = workspace.cache_dir / "models" / "line" / "1" / "model" / "model.joblib"
    original = cached.read_bytes()
    damage(cached)
    assert cached.read_bytes() != original

    with caplog.at_level(logging.WARNING, logger="modelport.registry.models"):
        runtime = workspace.models.load("line")

    np.testing.assert_allclose(runtime.predict([[10.0]]), [21.0])
    assert cached.read_bytes() == original == blob_of(workspace, version, "model.joblib").read_bytes()
    assert "cached copy of line:1 failed verification; fetching it again" in caplog.messages


def test_a_cached_copy_missing_a_file_is_healed(workspace: Workspace, tmp_path: Path) -> None:
    folder = write_tree(tmp_path / "bundle", {"a.txt": "first", "b.txt": "second"})
    workspace.models.register("bundle", folder)
    first = workspace.models.path_of("bundle")
    (first / "b.txt").unlink()

    again = workspace.models.path_of("bundle")

    assert again == first
    assert (again / "b.txt").read_text() == "second"


def test_a_blob_missing_from_the_store(workspace: Workspace, line_model: Any) -> None:
    version = workspace.models.register("line", obj=line_model)
    blob_of(workspace, version, "model.joblib").unlink()

    with pytest.raises(NotFoundError, match=r"artifact line:1/model\.joblib \(sha256 [0-9a-f]{64}\) is missing"):
        workspace.models.load("line")
    assert files_under(workspace.cache_dir) == []


def test_a_healthy_cached_copy_is_reused(workspace: Workspace, line_model: Any) -> None:
    version = workspace.models.register("line", obj=line_model)
    workspace.models.load("line")
    blob_of(workspace, version, "model.joblib").unlink()  # the store is not read again

    np.testing.assert_allclose(workspace.models.load("line").predict([[1.0]]), [3.0])


def test_a_load_that_loses_the_race_for_the_first_copy(
    workspace: Workspace, line_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two loads fetch the first copy at once: the one that finishes second finds the folder in place, checks it
    and uses it."""
    version = workspace.models.register("line", obj=line_model)
    registry = workspace.models
    real_copy = ArtifactStore.copy_to
    raced: list[Path] = []

    def copy_then_lose(self: ArtifactStore, sha256: str, size: int, destination: Path, label: str) -> None:
        real_copy(self, sha256, size, destination, label)
        if not raced:  # the other load completes while this one is about to move its copy into place
            monkeypatch.setattr(ArtifactStore, "copy_to", real_copy)
            raced.append(registry.materialize(version)[0])

    monkeypatch.setattr(ArtifactStore, "copy_to", copy_then_lose)

    model_dir, code_dir = registry.materialize(version)

    assert raced == [model_dir]
    assert code_dir is None
    assert (model_dir / "model.joblib").read_bytes() == blob_of(workspace, version, "model.joblib").read_bytes()
    assert [p.name for p in model_dir.parent.parent.iterdir()] == ["1"]  # no partial folder left behind
