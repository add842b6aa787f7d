"""The runtime interface: options checked against each runtime's table, runtimes chosen by framework."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from modelport import InvalidInputError, Runtime
from modelport.codecs.signature import Signature, TensorSpec
from modelport.errors import MissingDependencyError
from modelport.runtimes import RUNTIMES, ModelContext, create_runtime, runtime_class
from modelport.runtimes._imports import require
from modelport.runtimes.base import tabular_signature


class EchoRuntime(Runtime):
    framework = "echo"
    option_types: ClassVar[dict[str, type]] = {"scale": float, "columns": list, "workers": int, "verbose": bool}

    def load(self) -> None:
        self.ready = True

    def predict(self, data: Any) -> Any:
        return data


def _context(**changes: Any) -> ModelContext:
    fields: dict[str, Any] = {
        "name": "m",
        "version": 2,
        "framework": "sklearn",
        "model_dir": Path("/models/m/2/model"),
        "model_path": "m/model.joblib",
    }
    return ModelContext(**{**fields, **changes})


def test_options_are_checked_and_coerced() -> None:
    runtime = EchoRuntime(_context(options={"scale": 2, "columns": "a, b,,c", "workers": 3, "verbose": False}))

    assert runtime.options == {"scale": 2.0, "columns": ["a", "b", "c"], "workers": 3, "verbose": False}
    assert isinstance(runtime.options["scale"], float)
    assert not runtime.ready
    runtime.load()
    assert repr(runtime) == "<EchoRuntime m:2 ready=True>"
    assert runtime.describe() == Signature()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"speed": 1},
            "unknown option 'speed' for the echo runtime; its options are: columns, scale, verbose, workers",
        ),
        ({"workers": True}, "option 'workers' of the echo runtime must be a int, got True"),
        ({"workers": 1.5}, "must be a int, got 1.5"),
        ({"scale": "fast"}, "option 'scale' of the echo runtime must be a float, got 'fast'"),
        ({"scale": True}, "must be a float, got True"),
        ({"verbose": "yes"}, "option 'verbose' of the echo runtime must be a bool"),
        ({"columns": 3}, "option 'columns' of the echo runtime must be a list"),
    ],
)
def test_invalid_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        EchoRuntime(_context(options=options))


def test_a_runtime_without_options() -> None:
    class Plain(EchoRuntime):
        framework = "plain"
        option_types: ClassVar[dict[str, type]] = {}

    with pytest.raises(InvalidInputError, match="unknown option 'x' for the plain runtime; its options are: none"):
        Plain(_context(options={"x": 1}))


def test_the_model_file() -> None:
    assert _context().model_file == Path("/models/m/2/model/m/model.joblib")


@pytest.mark.parametrize("framework", sorted(RUNTIMES))
def test_every_runtime_can_be_imported(framework: str) -> None:
    cls = runtime_class(framework)

    assert issubclass(cls, Runtime)
    assert cls.framework == framework


@pytest.mark.parametrize("framework", ["pytorch", "custom", "tensorflow"])
def test_frameworks_without_a_runtime(framework: str) -> None:
    with pytest.raises(InvalidInputError, match=f"no no-code runtime for {framework} models"):
        runtime_class(framework)


def test_an_entry_script_means_the_script_runtime() -> None:
    from modelport.runtimes.script import ScriptRuntime
    from modelport.runtimes.sklearn import SklearnRuntime

    assert isinstance(create_runtime(_context(entry_script="score.py", code_dir=Path("/code"))), ScriptRuntime)
    assert isinstance(create_runtime(_context(framework="custom", entry_script="score.py")), ScriptRuntime)
    assert isinstance(create_runtime(_context()), SklearnRuntime)


def test_tabular_signature() -> None:
    registered = Signature(inputs=[TensorSpec("x", "INT64", [-1])])

    assert tabular_signature(_context(signature=registered), ["a"], 1) == registered
    assert tabular_signature(_context(), ["a", "b"], 2) == Signature(
        inputs=[TensorSpec("a", "FP64", [-1]), TensorSpec("b", "FP64", [-1])]
    )
    assert tabular_signature(_context(), None, 3) == Signature(inputs=[TensorSpec("input", "FP64", [-1, 3])])
    assert tabular_signature(_context(), None, None) == Signature()


def test_a_missing_extra_is_named() -> None:
    with pytest.raises(MissingDependencyError, match=r"loading a model needs the Python package 'no_such_package_x'"):
        require("no_such_package_x", "onnx", "loading a model")
    with pytest.raises(MissingDependencyError, match=r"install it with: pip install 'modelport\[onnx\]'"):
        require("no_such_package_x.sub", "onnx", "loading a model")


def test_a_broken_installed_package_is_not_hidden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "half_installed_pkg.py").write_text("import its_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(ModuleNotFoundError, match="its_missing_dependency"):
        require("half_installed_pkg", "onnx", "loading a model")
