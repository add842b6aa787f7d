"""Bad input is refused with a clear message, and leaves the workspace as it was.

Input refused before the database is reached is checked on ``sqlite_workspace`` only; everything else runs on
every backend."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from modelport import InvalidInputError, NotFoundError, Workspace
from tests.helpers import write_tree

# -- unknown names, versions and aliases ----------------------------------------------------------------------------


def test_unknown_model_suggests_the_closest_names(workspace: Workspace, line_model: Any) -> None:
    for name in ("iris", "iris-large", "wine"):
        workspace.models.register(name, obj=line_model)

    with pytest.raises(NotFoundError, match=r"no model named 'irsi'\. Did you mean 'iris'") as raised:
        workspace.models.get("irsi")
    assert "wine" not in str(raised.value)
    with pytest.raises(NotFoundError, match=r"Did you mean 'iris'"):
        workspace.models.load("irsi")
    with pytest.raises(NotFoundError, match=r"Did you mean 'wine'"):
        workspace.models.get("Wine")


def test_unknown_model_in_an_empty_workspace(workspace: Workspace) -> None:
    with pytest.raises(NotFoundError) as raised:
        workspace.models.get("iris")

    assert str(raised.value) == "no model named 'iris'."
    assert raised.value.code == "model_not_found"


def test_unknown_version_lists_the_newest(workspace: Workspace, line_model: Any) -> None:
    for _ in range(4):
        workspace.models.register("iris", obj=line_model)

    with pytest.raises(
        NotFoundError, match=r"model 'iris' has no version 7\. Did you mean 'iris:2', 'iris:3', 'iris:4'"
    ):
        workspace.models.get("iris:7")


def test_unknown_alias(workspace: Workspace, line_model: Any) -> None:
    workspace.models.register("iris", obj=line_model)

    with pytest.raises(NotFoundError, match="model 'iris' has no alias 'production'"):
        workspace.models.load("iris@production")


def test_invalid_references(sqlite_workspace: Workspace) -> None:
    for ref in ("my model", "iris:0", "iris:one", "iris@1x"):  # every form: see test_refs.py
        with pytest.raises(InvalidInputError, match="invalid"):
            sqlite_workspace.models.get(ref)


def test_a_version_beyond_any_counter_is_not_found(workspace: Workspace, line_model: Any) -> None:
    workspace.models.register("iris", obj=line_model)

    with pytest.raises(InvalidInputError, match="version"):
        workspace.models.get("iris:99999999999999999999")
    with pytest.raises(NotFoundError, match="has no version 99999999999999999999"):
        workspace.models.set_alias("iris", "prod", 99999999999999999999)


# -- invalid registrations ------------------------------------------------------------------------------------------


def test_invalid_model_names(sqlite_workspace: Workspace, line_model: Any) -> None:
    for name in ("", "my model", "a/b", "x" * 201, "iris\n"):  # every form: see test_refs.py
        with pytest.raises(InvalidInputError, match="invalid model name"):
            sqlite_workspace.models.register(name, obj=line_model)

    assert sqlite_workspace.models.names() == []


def test_longest_valid_name(workspace: Workspace, line_model: Any) -> None:
    name = "m" * 200

    assert workspace.models.register(name, obj=line_model).name == name
    assert workspace.models.get(f"{name}:1").name == name


def test_missing_path(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"cannot read .*nothing\.joblib: no such file or folder"):
        sqlite_workspace.models.register("iris", tmp_path / "nothing.joblib")


def test_a_broken_link_as_the_path(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "model.joblib").symlink_to(tmp_path / "gone.joblib")

    with pytest.raises(InvalidInputError, match="no such file or folder"):
        sqlite_workspace.models.register("iris", tmp_path / "model.joblib")


def test_an_unreadable_file_in_the_folder(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    """A file that cannot be opened. Tests run as root, where chmod cannot make a file unreadable; a link to a
    missing file fails the same way when it is opened."""
    folder = write_tree(tmp_path / "bundle", {"weights.bin": b"w"})
    (folder / "vocab.txt").symlink_to(tmp_path / "missing" / "vocab.txt")

    with pytest.raises(InvalidInputError, match=r"cannot read .*vocab\.txt: no such file \(a broken link\?\)"):
        sqlite_workspace.models.register("bundle", folder)


def test_nothing_or_both_to_register(sqlite_workspace: Workspace, line_model: Any, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="nothing to register"):
        sqlite_workspace.models.register("iris")
    with pytest.raises(InvalidInputError, match="either a path or an object"):
        sqlite_workspace.models.register("iris", tmp_path, obj=line_model)


def test_empty_folder(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "empty" / "__pycache__").mkdir(parents=True)

    with pytest.raises(InvalidInputError, match="is an empty folder: there is nothing to register"):
        sqlite_workspace.models.register("iris", tmp_path / "empty")


def test_framework_that_does_not_match_the_file(sqlite_workspace: Workspace, line_model: Any, tmp_path: Path) -> None:
    import joblib

    joblib.dump(line_model, tmp_path / "model.joblib")

    with pytest.raises(InvalidInputError, match=r"model\.joblib is a sklearn model file, not onnx"):
        sqlite_workspace.models.register("iris", tmp_path / "model.joblib", framework="onnx")


def test_unknown_framework(sqlite_workspace: Workspace, line_model: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"unknown framework 'tensorflow': expected one of sklearn, onnx"):
        sqlite_workspace.models.register("iris", obj=line_model, framework="tensorflow")


def test_folder_without_the_named_framework(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    folder = write_tree(tmp_path / "bundle", {"a.onnx": b"1", "b.onnx": b"2", "notes.txt": "n"})

    with pytest.raises(InvalidInputError, match="bundle holds no xgboost model file"):
        sqlite_workspace.models.register("bundle", folder, framework="xgboost")
    with pytest.raises(InvalidInputError, match=r"bundle holds several onnx model files \(a.onnx, b.onnx\)"):
        sqlite_workspace.models.register("bundle", folder, framework="onnx")


def test_file_of_unknown_kind(workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"\x00")

    with pytest.raises(InvalidInputError, match=r"cannot tell the framework of weights\.bin: pass --framework"):
        workspace.models.register("weights", tmp_path / "weights.bin")
    assert workspace.models.register("weights", tmp_path / "weights.bin", framework="custom").framework == "custom"


def test_object_that_cannot_be_pickled(sqlite_workspace: Workspace) -> None:
    with pytest.raises(InvalidInputError, match="cannot serialize the lock object with joblib"):
        sqlite_workspace.models.register("lock", obj=threading.Lock())


def test_invalid_metadata(sqlite_workspace: Workspace, line_model: Any) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"tags": {"": "x"}}, "invalid tag key ''"),
        ({"resources": {"cpu": -1}}, "resource cpu must be a number >= 0"),
        ({"resources": {"gpu": 0.5}}, "resource gpu must be a whole number"),
        ({"resources": {"gpus": 1}}, "invalid resources: .*use cpu, memory_gb and gpu"),
        ({"properties": {"fit": object()}}, "the properties cannot be stored as JSON"),
        ({"sample_input": {"x": {1, object()}}}, "the sample input cannot be stored as JSON"),
    ]
    for options, message in cases:
        with pytest.raises(InvalidInputError, match=message):
            sqlite_workspace.models.register("iris", obj=line_model, **options)

    assert sqlite_workspace.models.names() == []


def test_entry_script_problems(sqlite_workspace: Workspace, line_model: Any, tmp_path: Path) -> None:
    source = write_tree(tmp_path / "src", {"score.py": "def run(raw): return raw\n"})
    (tmp_path / "outside.py").write_text("def run(raw): return raw\n")

    with pytest.raises(InvalidInputError, match=r"cannot read the entry script .*missing\.py: no such file"):
        sqlite_workspace.models.register("iris", obj=line_model, entry_script=tmp_path / "missing.py")
    with pytest.raises(InvalidInputError, match=r"the entry script missing\.py is not a file in"):
        sqlite_workspace.models.register("iris", obj=line_model, entry_script="missing.py", source_directory=source)
    with pytest.raises(InvalidInputError, match="is outside the source directory"):
        sqlite_workspace.models.register(
            "iris", obj=line_model, entry_script=tmp_path / "outside.py", source_directory=source
        )
    with pytest.raises(InvalidInputError, match="is not a folder"):
        sqlite_workspace.models.register(
            "iris", obj=line_model, entry_script="score.py", source_directory=source / "score.py"
        )
    assert sqlite_workspace.models.names() == []


# -- invalid loads --------------------------------------------------------------------------------------------------


def test_unknown_runtime_option(workspace: Workspace, line_model: Any) -> None:
    workspace.models.register("iris", obj=line_model)

    with pytest.raises(
        InvalidInputError, match=r"unknown option 'colour' for the sklearn runtime; its options are: method"
    ):
        workspace.models.load("iris", colour="red")
    with pytest.raises(InvalidInputError, match="option 'method' of the sklearn runtime must be a str, got 3"):
        workspace.models.load("iris", method=3)
    with pytest.raises(InvalidInputError, match="option method='fit' is not one of predict, predict_proba"):
        workspace.models.load("iris", method="fit")


def test_registered_runtime_options_are_checked_on_load(workspace: Workspace, line_model: Any) -> None:
    workspace.models.register("iris", obj=line_model, runtime_options={"threads": 2})

    with pytest.raises(InvalidInputError, match="unknown option 'threads' for the sklearn runtime"):
        workspace.models.load("iris")


def test_custom_model_without_an_entry_script(workspace: Workspace, tmp_path: Path) -> None:
    workspace.models.register("custom", write_tree(tmp_path / "custom", {"weights.bin": b"w"}))

    with pytest.raises(InvalidInputError, match="no no-code runtime for custom models: serve it with an entry script"):
        workspace.models.load("custom")


def test_load_with_a_missing_entry_script(workspace: Workspace, line_model: Any, tmp_path: Path) -> None:
    workspace.models.register("iris", obj=line_model)

    with pytest.raises(InvalidInputError, match=r"cannot read the entry script .*score\.py: no such file"):
        workspace.models.load("iris", entry_script=tmp_path / "score.py")


def test_a_model_file_the_runtime_cannot_read(workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"not a protobuf")
    workspace.models.register("broken", tmp_path / "model.onnx")

    with pytest.raises(InvalidInputError, match=r"model\.onnx is not a loadable ONNX model"):
        workspace.models.load("broken")


def test_unknown_workspace_database_scheme(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unsupported database URL"):
        Workspace(tmp_path, db_url="nosuchdb://localhost/x")
    with pytest.raises(InvalidInputError, match="not a valid SQLAlchemy URL"):
        Workspace(tmp_path, db_url="::not a url::")


def test_unknown_store_scheme(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot open the artifact store 'nosuchfs://bucket'"):
        Workspace(tmp_path, store_url="nosuchfs://bucket")
