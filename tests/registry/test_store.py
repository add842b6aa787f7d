"""The content-addressed artifact store: any fsspec filesystem, each content stored once, unreferenced blobs
collected when versions are deleted."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pytest

from modelport import IntegrityError, NotFoundError, Workspace
from modelport.registry.store import ArtifactStore
from tests.helpers import files_under, stored_blobs, write_tree


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def memory_url() -> Iterator[str]:
    """A memory:// store of this test's own (the memory filesystem is shared by the whole process)."""
    url = f"memory://modelport-test-{uuid.uuid4().hex}"
    yield url
    fs, root = fsspec.core.url_to_fs(url)
    if fs.exists(root):
        fs.rm(root, recursive=True)


def test_memory_store_end_to_end(db_url: str, tmp_path: Path, memory_url: str, line_model: Any) -> None:
    with Workspace(tmp_path / "ws", db_url=db_url, store_url=memory_url) as ws:
        version = ws.models.register("line", obj=line_model)

        assert ws.store_url == memory_url
        assert stored_blobs(ws) == {version.files[0].sha256}
        assert not (tmp_path / "ws" / "artifacts").exists()
        np.testing.assert_allclose(ws.models.load("line").predict([[4.0]]), [9.0])
        target = ws.models.download("line", tmp_path / "out")
        assert _sha256((target / "model.joblib").read_bytes()) == version.files[0].sha256
        ws.models.delete("line:1")
        assert stored_blobs(ws) == set()


def test_identical_files_are_stored_once(workspace: Workspace, line_model: Any, tmp_path: Path) -> None:
    first = workspace.models.register("line", obj=line_model)
    second = workspace.models.register("other-name", obj=line_model)
    folder = write_tree(tmp_path / "bundle", {"a.txt": "same", "copy/a.txt": "same", "b.txt": "different"})
    bundle = workspace.models.register("bundle", folder)

    assert first.files[0].sha256 == second.files[0].sha256
    assert stored_blobs(workspace) == {
        first.files[0].sha256,
        _sha256(b"same"),
        _sha256(b"different"),
    }
    assert [f.sha256 for f in bundle.files] == [_sha256(b"same"), _sha256(b"different"), _sha256(b"same")]
    assert files_under(Path(workspace.store.root) / "blobs" / "tmp") == []


def test_deleting_a_version_collects_only_unshared_blobs(workspace: Workspace, tmp_path: Path) -> None:
    one = write_tree(tmp_path / "one" / "bundle", {"shared.txt": "shared", "own.txt": "only in v1"})
    two = write_tree(tmp_path / "two" / "bundle", {"shared.txt": "shared", "own.txt": "only in v2"})
    workspace.models.register("bundle", one)
    workspace.models.register("bundle", two)
    workspace.models.register("elsewhere", write_tree(tmp_path / "three", {"x.txt": "only in v2"}))

    workspace.models.delete("bundle:1")

    assert stored_blobs(workspace) == {_sha256(b"shared"), _sha256(b"only in v2")}
    downloaded = workspace.models.download("bundle:2", tmp_path / "out")
    assert (downloaded / "bundle" / "own.txt").read_text() == "only in v2"

    workspace.models.delete("bundle:2")
    assert stored_blobs(workspace) == {_sha256(b"only in v2")}  # still used by elsewhere:1
    workspace.models.delete("elsewhere:1")
    assert stored_blobs(workspace) == set()


# -- the store on its own -------------------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(str(tmp_path / "artifacts"))


def test_put_and_copy(store: ArtifactStore, tmp_path: Path) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(b"\x00\x01" * 1000)

    sha256, size = store.put_file(source)

    assert (sha256, size) == (_sha256(source.read_bytes()), 2000)
    assert store.exists(sha256)
    assert store.put_file(source) == (sha256, size)  # the second put finds it there
    blob = Path(store.root) / "blobs" / "sha256" / sha256[:2] / sha256
    assert blob.read_bytes() == source.read_bytes()
    store.copy_to(sha256, size, tmp_path / "out" / "deep" / "weights.bin", label="w")
    assert (tmp_path / "out" / "deep" / "weights.bin").read_bytes() == source.read_bytes()

    store.delete(sha256)
    store.delete(sha256)  # deleting what is gone is not an error
    assert not store.exists(sha256)


def test_copy_checks_the_size_as_well(store: ArtifactStore, tmp_path: Path) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(b"abc")
    sha256, size = store.put_file(source)

    with pytest.raises(IntegrityError, match=r"expected sha256 [0-9a-f]{64} and 4 bytes"):
        store.copy_to(sha256, size + 1, tmp_path / "out.bin", label="w")

    assert not (tmp_path / "out.bin").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["artifacts", "weights.bin"]  # no partial file


def test_copy_of_a_missing_blob(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"artifact w \(sha256 0+\) is missing from the store"):
        store.copy_to("0" * 64, 1, tmp_path / "out.bin", label="w")

    assert not (tmp_path / "out.bin").exists()
    assert list(tmp_path.iterdir()) == []
