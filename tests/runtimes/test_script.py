"""Entry scripts in the Azure ML style (``init()`` and ``run(raw)``) run unchanged: ``AZUREML_MODEL_DIR``,
``azureml.core.model.Model.get_model_path``, ``inference_schema`` decorators and helper modules all work."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelport import InvalidInputError, NotFoundError, ScriptError, Workspace
from modelport.runtimes import ModelContext, _azureml_context
from modelport.runtimes.script import ScriptRuntime
from tests.helpers import write_tree


@pytest.fixture(autouse=True)
def isolated_scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Entry scripts change process state (``sys.path``, ``sys.modules``, ``AZUREML_MODEL_DIR``, the models that
    ``Model.get_model_path`` knows): give each test a clean slate and take back what it changed."""
    monkeypatch.delenv("AZUREML_MODEL_DIR", raising=False)
    monkeypatch.setattr(_azureml_context, "_loaded", {})
    monkeypatch.setattr(_azureml_context, "_resolver", None)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        origin = str(getattr(sys.modules[name], "__file__", "") or "")
        if name.startswith(("modelport_entry_", "azureml")) or origin.startswith(str(tmp_path)):
            del sys.modules[name]


def script(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


ECHO = """
    import json
    import os

    from azureml.core.model import Model

    state = {}


    def init():
        state["model_dir"] = os.environ["AZUREML_MODEL_DIR"]
        state["model_path"] = Model.get_model_path("scaler")
        with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "bundle", "weights.json")) as f:
            state["scale"] = json.load(f)["scale"]


    def run(raw_data):
        data = json.loads(raw_data)["data"]
        return {
            "raw": raw_data,
            "type": type(raw_data).__name__,
            "scaled": [x * state["scale"] for x in data],
            "model_dir": state["model_dir"],
            "model_path": state["model_path"],
        }
"""


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "bundle", {"weights.json": json.dumps({"scale": 10})})


def test_run_gets_the_raw_text_and_init_finds_the_model(
    sqlite_workspace: Workspace, bundle: Path, tmp_path: Path
) -> None:
    entry = script(tmp_path / "score.py", ECHO)
    version = sqlite_workspace.models.register("scaler", bundle, entry_script=entry)

    runtime = sqlite_workspace.models.load("scaler")

    assert (version.framework, version.entry_script) == ("custom", "score.py")
    assert isinstance(runtime, ScriptRuntime) and runtime.ready
    result = runtime.predict('{"data": [1, 2.5]}')
    assert result["raw"] == '{"data": [1, 2.5]}'
    assert result["type"] == "str"
    assert result["scaled"] == [10, 25.0]
    model_dir = sqlite_workspace.cache_dir / "models" / "scaler" / "1" / "model"
    assert result["model_dir"] == os.environ["AZUREML_MODEL_DIR"] == str(model_dir)
    assert result["model_path"] == str(model_dir / "bundle")
    assert json.loads(runtime.predict({"data": [3]})["raw"]) == {"data": [3]}  # decoded payloads are re-encoded
    assert runtime.predict(b'{"data": [4]}')["raw"] == '{"data": [4]}'
    with pytest.raises(InvalidInputError, match="the input is not UTF-8 text"):
        runtime.predict(b"\xff\xfe binary")


def test_source_directory_with_a_helper_module(sqlite_workspace: Workspace, bundle: Path, tmp_path: Path) -> None:
    source = tmp_path / "src"
    script(source / "featurize_for_scaler.py", "def double(values):\n    return [2 * v for v in values]\n")
    script(
        source / "app" / "score.py",
        """
        import json

        from featurize_for_scaler import double


        def init():
            pass


        def run(raw):
            return double(json.loads(raw)["data"])
        """,
    )
    version = sqlite_workspace.models.register("scaler", bundle, entry_script="app/score.py", source_directory=source)

    runtime = sqlite_workspace.models.load("scaler")

    assert version.entry_script == "app/score.py"
    assert sorted(f.path for f in version.files if f.role == "code") == ["app/score.py", "featurize_for_scaler.py"]
    assert runtime.predict('{"data": [1, 2]}') == [2, 4]
    code_dir = sqlite_workspace.cache_dir / "models" / "scaler" / "1" / "code"
    assert str(code_dir) in sys.path


def test_the_azure_pattern_for_a_registered_estimator(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    estimator = LinearRegression().fit([[0.0], [1.0]], [1.0, 3.0])
    entry = script(
        tmp_path / "score.py",
        """
        import json
        import os

        import joblib

        model = None


        def init():
            global model
            model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model.joblib"))


        def run(raw_data):
            return model.predict(json.loads(raw_data)["data"]).tolist()
        """,
    )
    sqlite_workspace.models.register("line", obj=estimator)

    runtime = sqlite_workspace.models.load("line", entry_script=entry)  # an entry script given when loading

    assert isinstance(runtime, ScriptRuntime)
    np.testing.assert_allclose(runtime.predict('{"data": [[2.0], [3.0]]}'), [5.0, 7.0])


def test_get_model_path_of_another_registered_model(workspace: Workspace, bundle: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("setosa\nversicolor\nvirginica\n")
    workspace.models.register("labels", labels, framework="custom")
    entry = script(
        tmp_path / "score.py",
        """
        from azureml.core import Model

        names = []


        def init():
            with open(Model.get_model_path("labels")) as f:
                names.extend(f.read().split())
            names.append(Model.get_model_path("labels", version=1))


        def run(raw):
            return names
        """,
    )
    workspace.models.register("scaler", bundle, entry_script=entry)

    runtime = workspace.models.load("scaler")

    result = runtime.predict("{}")
    assert result[:3] == ["setosa", "versicolor", "virginica"]
    assert result[3] == str(workspace.cache_dir / "models" / "labels" / "1" / "model" / "labels.txt")


def test_get_model_path_of_an_unknown_model(sqlite_workspace: Workspace, bundle: Path, tmp_path: Path) -> None:
    entry = script(
        tmp_path / "score.py",
        """
        from azureml.core.model import Model


        def init():
            Model.get_model_path("labesl")


        def run(raw):
            return raw
        """,
    )
    sqlite_workspace.models.register("labels", bundle)
    sqlite_workspace.models.register("scaler", bundle, entry_script=entry)

    with pytest.raises(NotFoundError, match=r"no model named 'labesl'\. Did you mean 'labels'"):
        sqlite_workspace.models.load("scaler")


def test_request_headers(sqlite_workspace: Workspace, bundle: Path, tmp_path: Path) -> None:
    entry = script(tmp_path / "score.py", "def run(raw, request_headers):\n    return [raw, request_headers]\n")
    sqlite_workspace.models.register("echo", bundle, entry_script=entry)
    runtime = sqlite_workspace.models.load("echo")

    assert isinstance(runtime, ScriptRuntime)
    assert runtime.predict("x", headers={"X-Request-Id": "42"}) == ["x", {"X-Request-Id": "42"}]
    assert runtime.predict("y") == ["y", {}]


# -- inference_schema -----------------------------------------------------------------------------------------------

SCHEMA = """
    import numpy as np
    import pandas as pd
    from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
    from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
    from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
    from inference_schema.schema_decorators import input_schema, output_schema


    def init():
        pass


    @input_schema("data", NumpyParameterType(np.array([[1.0, 2.0]])))
    @input_schema("frame", PandasParameterType(pd.DataFrame({"a": [1.0], "b": ["x"]})))
    @input_schema("scale", StandardPythonParameterType(2.0), optional=True)
    @output_schema(StandardPythonParameterType({"total": 1.0}))
    def run(data, frame, scale=1.0):
        return {
            "data": [type(data).__name__, str(data.dtype), list(data.shape)],
            "frame": [type(frame).__name__, list(frame.columns), len(frame)],
            "scale": [type(scale).__name__, scale],
            "total": float(data.sum() * scale + frame["a"].sum()),
        }
"""


@pytest.fixture
def schema_runtime(sqlite_workspace: Workspace, bundle: Path, tmp_path: Path) -> ScriptRuntime:
    sqlite_workspace.models.register("typed", bundle, entry_script=script(tmp_path / "score.py", SCHEMA))
    runtime = sqlite_workspace.models.load("typed")
    assert isinstance(runtime, ScriptRuntime)
    return runtime


def test_schema_parameters_arrive_converted(schema_runtime: ScriptRuntime) -> None:
    payload = {"data": [[1.0, 2.0], [3.0, 4.0]], "frame": [{"a": 0.5, "b": "y"}, {"a": 1.5, "b": "z"}], "scale": 3.0}

    result = schema_runtime.predict(payload)

    assert result == {
        "data": ["ndarray", "float64", [2, 2]],
        "frame": ["DataFrame", ["a", "b"], 2],
        "scale": ["float", 3.0],
        "total": 32.0,
    }
    assert schema_runtime.predict(json.dumps(payload)) == result  # the raw JSON text is parsed
    assert sorted(schema_runtime.parameters or {}) == ["data", "frame", "scale"]


def test_schema_parameter_with_a_default_may_be_left_out(schema_runtime: ScriptRuntime) -> None:
    result = schema_runtime.predict({"data": [[1.0, 1.0]], "frame": [{"a": 1.0, "b": "y"}], "ignored": True})

    assert result["scale"] == ["float", 1.0]
    assert result["total"] == 3.0


def test_automl_style_global_parameters(sqlite_workspace: Workspace, bundle: Path, tmp_path: Path) -> None:
    """The shape of the scripts Azure AutoML generates: ``GlobalParameters`` is not converted and has a default."""
    entry = script(
        tmp_path / "score.py",
        """
        import pandas as pd
        from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
        from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
        from inference_schema.schema_decorators import input_schema, output_schema


        @input_schema("Inputs", StandardPythonParameterType({"data": PandasParameterType(pd.DataFrame({"x": [1]}))}))
        @input_schema(
            "GlobalParameters", StandardPythonParameterType({"method": "predict"}), convert_to_provided_type=False
        )
        @output_schema(StandardPythonParameterType({"Results": [1]}))
        def run(Inputs, GlobalParameters={"method": "predict"}):
            return {"Results": [type(Inputs["data"]).__name__, GlobalParameters["method"]]}
        """,
    )
    sqlite_workspace.models.register("automl", bundle, entry_script=entry)
    runtime = sqlite_workspace.models.load("automl")
    inputs = {"data": [{"x": 3}]}

    assert runtime.predict({"Inputs": inputs}) == {"Results": ["DataFrame", "predict"]}
    assert runtime.predict({"Inputs": inputs, "GlobalParameters": {"method": "predict_proba"}}) == {
        "Results": ["DataFrame", "predict_proba"]
    }
    with pytest.raises(InvalidInputError, match=r"the input lacks the parameter\(s\) 'Inputs'"):
        runtime.predict({"GlobalParameters": {"method": "predict"}})


def test_missing_schema_parameter_is_named(schema_runtime: ScriptRuntime) -> None:
    with pytest.raises(InvalidInputError, match=r"the input lacks the parameter\(s\) 'frame' that run\(\) declares"):
        schema_runtime.predict({"data": [[1.0, 2.0]]})
    with pytest.raises(InvalidInputError, match=r"parameter\(s\) 'data', 'frame'"):
        schema_runtime.predict({})


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([[1.0, 2.0]], "run\\(\\) takes named parameters, so the input must be a JSON object; got list"),
        ("[1, 2]", "must be a JSON object; got list"),
        ("{not json", "the input is not valid JSON"),
    ],
)
def test_schema_input_must_be_an_object(schema_runtime: ScriptRuntime, payload: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        schema_runtime.predict(payload)


# -- failures -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "error", "message"),
    [
        (
            "def init():\n    raise FileNotFoundError('weights.bin is missing')\n\ndef run(raw):\n    return raw\n",
            ScriptError,
            r"init\(\) of score.py raised FileNotFoundError: weights.bin is missing",
        ),
        ("def run(raw:\n", ScriptError, "the entry script score.py failed to import: SyntaxError"),
        ("import no_such_module_here\n", ScriptError, "failed to import: ModuleNotFoundError"),
        ("def init():\n    pass\n", InvalidInputError, r"the entry script score.py defines no run\(\) function"),
        ("run = 42\n", InvalidInputError, r"defines no run\(\) function"),
    ],
)
def test_script_failures_on_load(
    sqlite_workspace: Workspace,
    bundle: Path,
    tmp_path: Path,
    source: str,
    error: type[Exception],
    message: str,
) -> None:
    sqlite_workspace.models.register("broken", bundle, entry_script=script(tmp_path / "score.py", source))

    with pytest.raises(error, match=message) as raised:
        sqlite_workspace.models.load("broken")

    if error is ScriptError:
        assert raised.value.__cause__ is not None


def test_an_exception_in_run_is_a_script_error(sqlite_workspace: Workspace, bundle: Path, tmp_path: Path) -> None:
    entry = script(
        tmp_path / "score.py",
        """
        import json

        from modelport import InvalidInputError


        def run(raw):
            data = json.loads(raw)
            if data == "user error":
                raise InvalidInputError("the script says no")
            return 1 / data
        """,
    )
    sqlite_workspace.models.register("divide", bundle, entry_script=entry)
    runtime = sqlite_workspace.models.load("divide")

    assert runtime.predict("4") == 0.25
    with pytest.raises(ScriptError, match=r"run\(\) of score.py raised ZeroDivisionError: division by zero") as raised:
        runtime.predict("0")
    assert isinstance(raised.value.__cause__, ZeroDivisionError)
    with pytest.raises(InvalidInputError, match="the script says no"):  # modelport's own errors pass through
        runtime.predict('"user error"')


def test_unload_forgets_the_model_path(sqlite_workspace: Workspace, bundle: Path, tmp_path: Path) -> None:
    entry = script(tmp_path / "score.py", "def run(raw):\n    return raw\n")
    sqlite_workspace.models.register("echo", bundle, entry_script=entry)
    runtime = sqlite_workspace.models.load("echo")
    assert _azureml_context.model_path("echo") == sqlite_workspace.models.path_of("echo")

    runtime.unload()

    assert not runtime.ready
    assert ("echo", 1) not in _azureml_context._loaded


def test_a_context_without_the_script(tmp_path: Path) -> None:
    context = ModelContext(name="m", version=1, framework="custom", model_dir=tmp_path, model_path="m")

    with pytest.raises(InvalidInputError, match="model m:1 has no entry script to run"):
        ScriptRuntime(context).load()
    with pytest.raises(InvalidInputError, match=r"the entry script score\.py is missing from the model's code"):
        ScriptRuntime(replace(context, code_dir=tmp_path, entry_script="score.py")).load()
