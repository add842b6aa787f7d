"""Registering, reading, listing, downloading and deleting model versions."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelport import InvalidInputError, ModelVersion, NotFoundError, Resources, Workspace
from tests.helpers import files_under, write_tree


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- registering ----------------------------------------------------------------------------------------------------


def test_register_object_records_what_was_stored(workspace: Workspace, line_model: Any) -> None:
    version = workspace.models.register("line", obj=line_model)

    assert (version.name, version.version, version.ref) == ("line", 1, "line:1")
    assert version.framework == "sklearn"
    assert version.model_path == "model.joblib"
    assert version.entry_script is None
    assert version.created_at.tzinfo is not None
    [stored] = version.files
    assert (stored.path, stored.role) == ("model.joblib", "model")
    assert stored.size == version.size > 0
    assert len(stored.sha256) == 64


def test_register_file_stores_its_exact_bytes(workspace: Workspace, line_model: Any, tmp_path: Path) -> None:
    import joblib

    path = tmp_path / "regressor.pkl"
    joblib.dump(line_model, path)

    version = workspace.models.register("line", path)

    assert version.framework == "sklearn"
    assert version.model_path == "regressor.pkl"
    [stored] = version.files
    assert (stored.path, stored.sha256, stored.size) == ("regressor.pkl", _sha256(path), path.stat().st_size)


def test_register_folder_keeps_its_layout(workspace: Workspace, line_model: Any, tmp_path: Path) -> None:
    import joblib

    folder = write_tree(tmp_path / "bundle", {"config/labels.txt": "a\nb\n", "README": "notes"})
    joblib.dump(line_model, folder / "estimator.joblib")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "junk.pyc").write_bytes(b"skipped")

    version = workspace.models.register("bundle", folder)

    assert version.framework == "sklearn"
    assert version.model_path == "bundle/estimator.joblib"
    assert [f.path for f in version.files] == ["bundle/README", "bundle/config/labels.txt", "bundle/estimator.joblib"]
    np.testing.assert_allclose(workspace.models.load("bundle").predict([[3.0]]), [7.0])


@pytest.mark.parametrize("given", [".", "../bundle/", "./"])
def test_register_a_folder_named_relatively(
    workspace: Workspace, line_model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    import joblib

    folder = write_tree(tmp_path / "bundle", {"notes.txt": "n"})
    joblib.dump(line_model, folder / "estimator.joblib")
    monkeypatch.chdir(folder)

    version = workspace.models.register("bundle", given)

    assert version.model_path == "bundle/estimator.joblib"
    assert [f.path for f in version.files] == ["bundle/estimator.joblib", "bundle/notes.txt"]
    np.testing.assert_allclose(workspace.models.load("bundle").predict([[1.0]]), [3.0])


def test_a_link_keeps_its_own_name(workspace: Workspace, line_model: Any, tmp_path: Path) -> None:
    import joblib

    joblib.dump(line_model, tmp_path / "3f9a1c.bin")
    (tmp_path / "regressor.joblib").symlink_to(tmp_path / "3f9a1c.bin")

    version = workspace.models.register("line", tmp_path / "regressor.joblib")

    assert (version.framework, version.model_path) == ("sklearn", "regressor.joblib")
    assert version.files[0].sha256 == _sha256(tmp_path / "3f9a1c.bin")


def test_folder_without_a_single_model_file_is_custom(workspace: Workspace, tmp_path: Path) -> None:
    folder = write_tree(tmp_path / "custom", {"weights.bin": b"\x00\x01", "vocab.txt": "a b c"})

    version = workspace.models.register("custom", folder)

    assert (version.framework, version.model_path) == ("custom", "custom")


def test_register_keeps_metadata(workspace: Workspace, line_model: Any) -> None:
    version = workspace.models.register(
        "line",
        obj=line_model,
        description="y = 2x + 1",
        tags={"team": "forecasting", "stage": None, "rank": 3},
        properties={"rmse": 0.0, "features": ["x"]},
        sample_input={"data": np.array([[1.0], [2.0]])},
        sample_output=np.array([3.0, 5.0]),
        resources={"cpu": 0.5, "memory_gb": 1, "gpu": 0},
        runtime_options={"method": "predict"},
    )

    got = workspace.models.get("line:1")
    assert got == version
    assert got.description == "y = 2x + 1"
    assert got.tags == {"rank": "3", "stage": "", "team": "forecasting"}
    assert got.properties == {"rmse": 0.0, "features": ["x"]}
    assert got.sample_input == {"data": [[1.0], [2.0]]}
    assert got.sample_output == [3.0, 5.0]
    assert got.resources == Resources(cpu=0.5, memory_gb=1, gpu=0)
    assert got.runtime_options == {"method": "predict"}
    assert got.signature == {
        "inputs": [{"name": "input", "datatype": "FP64", "shape": [-1, 1]}],
        "outputs": [{"name": "output", "datatype": "FP64", "shape": [-1]}],
    }


def test_to_dict_is_plain_json(workspace: Workspace, line_model: Any) -> None:
    version = workspace.models.register("line", obj=line_model, tags={"k": "v"}, resources=Resources(cpu=1))
    workspace.models.set_alias("line", "prod", 1)

    shown = json.loads(json.dumps(workspace.models.get("line@prod").to_dict()))

    assert shown["name"] == "line"
    assert shown["version"] == 1
    assert shown["aliases"] == ["prod"]
    assert shown["resources"] == {"cpu": 1}
    [stored] = version.files
    assert shown["files"] == [{"path": "model.joblib", "role": "model", "sha256": stored.sha256, "size": stored.size}]
    assert shown["created_at"] == version.created_at.isoformat()


# -- versions -------------------------------------------------------------------------------------------------------


def test_versions_count_up_per_name(workspace: Workspace, line_model: Any) -> None:
    got = [workspace.models.register(name, obj=line_model).version for name in ("a", "b", "a", "a", "b")]

    assert got == [1, 1, 2, 3, 2]


def test_versions_are_never_reused_after_a_delete(workspace: Workspace, line_model: Any) -> None:
    for _ in range(3):
        workspace.models.register("line", obj=line_model)

    deleted = workspace.models.delete("line:3")

    assert deleted.ref == "line:3"
    assert [m.version for m in workspace.models.list("line")] == [2, 1]
    assert workspace.models.get("line").version == 2
    assert workspace.models.register("line", obj=line_model).version == 4


def test_deleting_every_version_keeps_the_counter(workspace: Workspace, line_model: Any) -> None:
    workspace.models.register("line", obj=line_model)
    workspace.models.register("line", obj=line_model)
    workspace.models.delete("line:1")
    workspace.models.delete("line:2")

    with pytest.raises(NotFoundError, match="no versions left"):
        workspace.models.get("line")
    assert workspace.models.list("line") == []
    assert workspace.models.register("line", obj=line_model).version == 3


def test_delete_needs_a_version(workspace: Workspace, line_model: Any) -> None:
    workspace.models.register("line", obj=line_model)

    with pytest.raises(InvalidInputError, match=r"name the version to delete: line:VERSION"):
        workspace.models.delete("line")
    assert len(workspace.models.list()) == 1


def test_delete_clears_the_cached_copy(workspace: Workspace, line_model: Any) -> None:
    workspace.models.register("line", obj=line_model)
    workspace.models.load("line")
    cached = workspace.cache_dir / "models" / "line" / "1"
    assert files_under(cached) != []

    workspace.models.delete("line:1")

    assert not cached.exists()


# -- get and list ---------------------------------------------------------------------------------------------------


def test_get_by_name_version_and_alias(workspace: Workspace, line_model: Any) -> None:
    for description in ("one", "two", "three"):
        workspace.models.register("line", obj=line_model, description=description)
    workspace.models.set_alias("line", "stable", 2)

    assert workspace.models.get("line").description == "three"
    assert workspace.models.get("line@latest").description == "three"
    assert workspace.models.get("line:1").description == "one"
    assert workspace.models.get(" line:1 ").description == "one"
    assert workspace.models.get("line@stable").description == "two"


def _refs(versions: list[ModelVersion]) -> list[str]:
    return [v.ref for v in versions]


@pytest.fixture
def catalogue(workspace: Workspace, line_model: Any) -> Workspace:
    """iris:1-3 and wine:1-2 with tags."""
    models = workspace.models
    models.register("iris", obj=line_model, tags={"stage": "dev"})
    models.register("wine", obj=line_model, tags={"stage": "prod", "owner": "ana"})
    models.register("iris", obj=line_model, tags={"stage": "prod"})
    models.register("iris", obj=line_model)
    models.register("wine", obj=line_model, tags={"owner": "bo"})
    return workspace


def test_list_orders_by_name_then_newest(catalogue: Workspace) -> None:
    assert _refs(catalogue.models.list()) == ["iris:3", "iris:2", "iris:1", "wine:2", "wine:1"]
    assert catalogue.models.names() == ["iris", "wine"]


def test_list_filters(catalogue: Workspace) -> None:
    models = catalogue.models
    assert _refs(models.list("wine")) == ["wine:2", "wine:1"]
    assert _refs(models.list(tag="stage")) == ["iris:2", "iris:1", "wine:1"]
    assert _refs(models.list(tag="stage=prod")) == ["iris:2", "wine:1"]
    assert _refs(models.list(tag="stage=staging")) == []
    assert _refs(models.list(tag="owner", name="wine")) == ["wine:2", "wine:1"]
    assert _refs(models.list(latest=True)) == ["iris:3", "wine:2"]
    assert _refs(models.list(tag="stage=prod", latest=True)) == ["iris:2", "wine:1"]
    assert [m.tags for m in models.list("wine")] == [{"owner": "bo"}, {"owner": "ana", "stage": "prod"}]


def test_list_of_an_unknown_name_suggests(catalogue: Workspace) -> None:
    with pytest.raises(NotFoundError, match=r"no model named 'wines'\. Did you mean 'wine'\?"):
        catalogue.models.list("wines")


def test_list_of_an_empty_workspace(workspace: Workspace) -> None:
    assert workspace.models.list() == []
    assert workspace.models.names() == []


def test_path_of_gives_the_local_file_or_folder(workspace: Workspace, line_model: Any, tmp_path: Path) -> None:
    workspace.models.register("single", obj=line_model)
    folder = write_tree(tmp_path / "bundle", {"weights.bin": b"1234"})
    workspace.models.register("bundle", folder)

    single = workspace.models.path_of("single")
    bundle = workspace.models.path_of("bundle", 1)

    assert single.is_file() and single.name == "model.joblib"
    assert bundle.is_dir() and (bundle / "weights.bin").read_bytes() == b"1234"


# -- download -------------------------------------------------------------------------------------------------------


def test_download_a_file_registration(workspace: Workspace, line_model: Any, tmp_path: Path) -> None:
    version = workspace.models.register("line", obj=line_model)

    target = workspace.models.download("line", tmp_path / "out")

    assert target == tmp_path / "out"
    assert [p.relative_to(target).as_posix() for p in files_under(target)] == ["model.joblib"]
    assert _sha256(target / "model.joblib") == version.files[0].sha256


def test_download_a_folder_with_code(workspace: Workspace, tmp_path: Path) -> None:
    folder = write_tree(tmp_path / "bundle", {"weights.bin": b"w", "nested/vocab.txt": "v"})
    source = write_tree(tmp_path / "src", {"score.py": "def run(raw): return raw\n", "lib/helper.py": "X = 1\n"})
    workspace.models.register("bundle", folder, entry_script="score.py", source_directory=source)

    target = workspace.models.download("bundle:1", tmp_path / "out" / "deeper")

    assert [p.relative_to(target).as_posix() for p in files_under(target)] == [
        "bundle/nested/vocab.txt",
        "bundle/weights.bin",
        "code/lib/helper.py",
        "code/score.py",
    ]
    assert (target / "code" / "score.py").read_text() == "def run(raw): return raw\n"
    assert (target / "bundle" / "weights.bin").read_bytes() == b"w"


def test_download_into_an_existing_empty_folder(workspace: Workspace, line_model: Any, tmp_path: Path) -> None:
    workspace.models.register("line", obj=line_model)
    (tmp_path / "out").mkdir()

    workspace.models.download("line", tmp_path / "out")

    assert (tmp_path / "out" / "model.joblib").is_file()


@pytest.mark.parametrize("existing", ["folder", "file"])
def test_download_refuses_an_existing_destination(
    workspace: Workspace, line_model: Any, tmp_path: Path, existing: str
) -> None:
    workspace.models.register("line", obj=line_model)
    target = tmp_path / "out"
    if existing == "folder":
        write_tree(target, {"keep.txt": "mine"})
    else:
        target.write_text("mine")
    before = files_under(tmp_path)

    with pytest.raises(InvalidInputError, match="already exists and is not an empty folder"):
        workspace.models.download("line", target)

    assert files_under(tmp_path) == before


def test_download_of_an_unknown_model_writes_nothing(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        workspace.models.download("nothing", tmp_path / "out")

    assert not (tmp_path / "out").exists()
