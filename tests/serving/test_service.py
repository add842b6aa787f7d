"""The inference service: loading, readiness, finding the model a request names, and the predict path's limits
(time, waiting callers), without a web framework."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from modelport import InvalidInputError, NotFoundError, ScriptError, Workspace
from modelport.errors import ScoringTimeoutError, UnavailableError
from modelport.runtimes.script import ScriptRuntime
from modelport.serving import InferenceService, ServingSettings, context
from tests.serving.helpers import register_script

DECORATED = """
    from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
    from inference_schema.schema_decorators import input_schema, output_schema


    def init():
        pass


    @input_schema("x", StandardPythonParameterType(1.0))
    @output_schema(StandardPythonParameterType(2.0))
    def run(x):
        return 2 * x
"""


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = Workspace(tmp_path_factory.mktemp("ws") / "ws")
    line = LinearRegression().fit([[0.0], [1.0]], [1.0, 3.0])
    workspace.models.register("line", obj=line, sample_input={"data": [[0.5]]})
    workspace.models.register("line", obj=line)
    workspace.models.register("other", obj=line)
    scripts = tmp_path_factory.mktemp("scripts")
    register_script(workspace, "decorated", scripts, DECORATED)
    register_script(
        workspace, "broken", scripts, "def init():\n    raise OSError('disk')\n\n\ndef run(raw):\n    pass\n"
    )
    yield workspace
    workspace.close()


@pytest.fixture
def service(ws: Workspace) -> Iterator[InferenceService]:
    served = InferenceService(ws, ["line:1", "line:2", "other"], ServingSettings(scoring_timeout_s=0.2, max_waiting=2))
    served.load()
    yield served
    served.close()


def test_refs_are_required(ws: Workspace) -> None:
    with pytest.raises(InvalidInputError, match="name at least one model to serve"):
        InferenceService(ws, [])
    with pytest.raises(InvalidInputError, match="--entry-script applies to one model"):
        InferenceService(ws, ["line", "other"], entry_script="score.py")


def test_loading_makes_it_ready(ws: Workspace) -> None:
    served = InferenceService(ws, ["other"])
    with pytest.raises(UnavailableError, match="still loading") as raised:
        served.check_ready()
    assert raised.value.retry_after == 1

    served.load()

    assert served.ready
    served.check_ready()
    (model,) = served.models
    assert (model.name, model.version, model.ready) == ("other", 1, True)
    assert model.load_seconds > 0
    served.close()
    assert not model.ready


def test_a_failed_load_keeps_the_reason(ws: Workspace) -> None:
    served = InferenceService(ws, ["other", "broken"])

    with pytest.raises(ScriptError):
        served.load()

    assert not served.ready
    assert served.load_error == "ScriptError: init() of score.py raised OSError: disk"
    with pytest.raises(UnavailableError, match=r"failed to load; the server log says why$"):
        served.check_ready()
    served.close()


def test_resolve(service: InferenceService) -> None:
    assert service.resolve("line").record.ref == "line:1"  # the first served
    assert service.resolve("line", "2").version == service.resolve("line", 2).version == 2
    assert service.resolve("other", "").name == "other"
    with pytest.raises(InvalidInputError, match="score one of: /models/line/score, /models/other/score"):
        service.resolve()
    with pytest.raises(NotFoundError, match=r"^no model named 'nine'\. Did you mean 'line', 'other'\?$"):
        service.resolve("nine")
    with pytest.raises(NotFoundError, match=r"^model 'line' has no version 3\. Did you mean 'line:1', 'line:2'\?$"):
        service.resolve("line", 3)
    with pytest.raises(NotFoundError, match=r"^model 'line' has no version 'v2'\."):
        service.resolve("line", "v2")


def test_the_only_model_needs_no_name(ws: Workspace) -> None:
    served = InferenceService(ws, ["other"])
    served.load()

    assert served.resolve().name == "other"
    served.close()


def test_predict_off_the_event_loop(service: InferenceService) -> None:
    model = service.resolve("line")

    result = asyncio.run(service.predict(model, {"data": [[2.0], [3.0]]}))

    np.testing.assert_allclose(result, [5.0, 7.0])


def test_the_request_context_follows_the_call_into_its_thread(service: InferenceService) -> None:
    model = service.resolve("line")

    async def call() -> Any:
        context.request_id.set("req-ctx")
        return await service.call(model, lambda: context.request_id.get())

    assert asyncio.run(call()) == "req-ctx"


def test_a_call_past_the_timeout_fails(service: InferenceService) -> None:
    model = service.resolve("other")
    started = time.perf_counter()

    with pytest.raises(ScoringTimeoutError, match=r"^scoring other:1 took longer than 0\.2 s$"):
        asyncio.run(service.call(model, time.sleep, 0.5))

    assert time.perf_counter() - started < 0.45
    assert service.waiting == 0


def test_callers_past_max_waiting_are_refused(service: InferenceService) -> None:
    model = service.resolve("other")

    async def three() -> list[Any]:
        calls = [service.call(model, time.sleep, 0.1) for _ in range(3)]
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(three())

    refused = [o for o in outcomes if isinstance(o, UnavailableError)]
    assert len(refused) == 1 and outcomes.count(None) == 2
    assert refused[0].retry_after == 1
    assert str(refused[0]) == "the server is busy: 2 requests are already waiting; retry shortly"


def test_a_decorated_script_loads_again_in_the_same_process(ws: Workspace) -> None:
    for _ in range(2):  # inference_schema refuses a second schema for the same module and function
        served = InferenceService(ws, ["decorated"])
        served.load()
        model = served.resolve()
        assert isinstance(model.runtime, ScriptRuntime)
        assert model.runtime.call_run(x=2.5) == 5.0
        assert model.runtime.output_swagger == {"type": "number", "format": "double", "example": 2.0}
        served.close()


def test_an_entry_script_given_when_serving(ws: Workspace, tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text(
        "import json, os, joblib\n\n"
        "def init():\n    global model\n"
        "    model = joblib.load(os.path.join(os.environ['AZUREML_MODEL_DIR'], 'model.joblib'))\n\n"
        "def run(raw):\n    return model.predict(json.loads(raw)['data']).tolist()\n"
    )
    served = InferenceService(ws, ["other"], entry_script=script)
    served.load()

    model = served.resolve()

    assert isinstance(model.runtime, ScriptRuntime)
    assert model.runtime.call_run('{"data": [[1.0]]}') == pytest.approx([3.0])
    served.close()
