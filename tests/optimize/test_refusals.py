"""Every refusal says why, and registers nothing."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

from modelport import InvalidInputError, Workspace
from modelport.errors import MissingDependencyError
from modelport.optimize import OptimizeReport, Tolerance, optimize

from .conftest import Doubler, Halver

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")


def run(ws: Workspace, ref: str, **options: Any) -> OptimizeReport:
    return optimize(ws, ref, **{"repeat": 3, "min_speedup": 0.0, **options})


def only(ws: Workspace, *refs: str) -> None:
    assert [v.ref for v in ws.models.list()] == list(refs)


def test_an_estimator_skl2onnx_cannot_convert(sqlite_workspace: Workspace) -> None:
    sqlite_workspace.models.register("half", obj=Halver(), sample_input={"data": [[1.0, 2.0]]})
    report = run(sqlite_workspace, "half")
    assert report.refused
    assert report.reason is not None and report.reason.startswith("skl2onnx cannot convert Halver")
    assert report.equivalence is None and report.timing is None
    only(sqlite_workspace, "half:1")


def test_a_pipeline_names_the_step_skl2onnx_cannot_convert(
    sqlite_workspace: Workspace, tabular: tuple[Any, list[list[float]]]
) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    x = np.random.default_rng(0).normal(size=(40, 2))
    model = Pipeline([("double", Doubler()), ("clf", LogisticRegression())]).fit(x, x[:, 0] > 0)
    sqlite_workspace.models.register("piped", obj=model, sample_input={"data": x[:2].tolist()})
    report = run(sqlite_workspace, "piped")
    assert report.refused and report.reason is not None
    assert report.reason.startswith("skl2onnx cannot convert Doubler (in Pipeline): ")
    only(sqlite_workspace, "piped:1")


def test_outputs_that_differ_beyond_the_tolerance(
    sqlite_workspace: Workspace, tabular: tuple[Any, list[list[float]]]
) -> None:
    model, rows = tabular
    sqlite_workspace.models.register(
        "clf", obj=model, sample_input={"data": rows}, runtime_options={"method": "predict_proba"}
    )
    report = run(sqlite_workspace, "clf", tolerance=Tolerance(rtol=0, atol=0))  # float32 is never exact
    assert report.refused and report.equivalence is not None and not report.equivalence.equivalent
    assert report.reason is not None
    assert report.reason.startswith("not equivalent: the outputs differ beyond rtol=0,atol=0 on ")
    assert "max abs diff" in report.reason and "first at the registered sample, row 0: original" in report.reason
    assert report.equivalence.max_abs_diff > 0
    assert report.timing is not None  # measured all the same, for the report
    only(sqlite_workspace, "clf:1")


def test_float32_inputs_that_lose_the_answer(sqlite_workspace: Workspace) -> None:
    """ONNX takes float32 inputs: epoch seconds (1.7e9) are then rounded to 128 s, and a model of minutes since a
    date answers 12 where scikit-learn answers 10 (a real difference, not a tolerance set to zero)."""
    from sklearn.linear_model import LinearRegression

    seconds = 1.7e9 + np.arange(0, 86_400, 600.0).reshape(-1, 1)
    model = LinearRegression().fit(seconds, (seconds[:, 0] - 1.7e9) / 60)
    sqlite_workspace.models.register("minutes", obj=model, sample_input={"data": seconds[:2].tolist()})
    report = run(sqlite_workspace, "minutes")
    assert report.refused and report.reason is not None
    assert report.reason.startswith("not equivalent: the outputs differ beyond rtol=0.0001,atol=1e-05 on ")
    assert "first at the registered sample, row 1: original 10, ONNX 12" in report.reason
    assert "inputs are cast to float32" in report.notes
    only(sqlite_workspace, "minutes:1")


def test_not_faster_than_asked(sqlite_workspace: Workspace, tabular: tuple[Any, list[list[float]]]) -> None:
    sqlite_workspace.models.register("clf", obj=tabular[0], sample_input={"data": tabular[1]})
    report = run(sqlite_workspace, "clf", min_speedup=1000)
    assert report.refused and report.equivalence is not None and report.equivalence.equivalent
    assert report.reason is not None and report.reason.startswith("not faster: one row ")
    assert "us (sklearn) vs " in report.reason and "both must be at least 1000x" in report.reason
    only(sqlite_workspace, "clf:1")


def test_records_are_a_layout_the_onnx_runtime_does_not_take(sqlite_workspace: Workspace) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    frame, target = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(frame, target)
    sqlite_workspace.models.register("iris", obj=model, sample_input={"data": frame.head(2).to_dict("records")})
    report = run(sqlite_workspace, "iris")
    assert report.refused and report.reason is not None and "a list of records" in report.reason
    only(sqlite_workspace, "iris:1")


def test_a_method_without_an_onnx_output(sqlite_workspace: Workspace, tabular: tuple[Any, list[list[float]]]) -> None:
    sqlite_workspace.models.register(
        "clf", obj=tabular[0], sample_input={"data": tabular[1]}, runtime_options={"method": "decision_function"}
    )
    report = run(sqlite_workspace, "clf")
    assert report.refused and report.reason is not None
    assert report.reason.startswith("the registered method decision_function() of LogisticRegression has no ONNX")


def test_only_no_code_sklearn_models(sqlite_workspace: Workspace, tmp_path: Any) -> None:
    onnx_file = tmp_path / "m.onnx"
    from skl2onnx import to_onnx
    from sklearn.linear_model import LinearRegression

    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    onnx_file.write_bytes(to_onnx(LinearRegression().fit(x, [1, 2, 3]), x).SerializeToString())
    sqlite_workspace.models.register("already", onnx_file)
    with pytest.raises(InvalidInputError, match="already:1 is a onnx model: modelport optimize converts scikit-learn"):
        run(sqlite_workspace, "already")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tolerance": None, "min_speedup": -1}, "min_speedup and spread must be >= 0"),
        ({"repeat": 0}, "repeat and batch_rows must be >= 1"),
        ({"threads": -2}, "threads must be >= 0"),
    ],
)
def test_bad_arguments(
    sqlite_workspace: Workspace, tabular: tuple[Any, list[list[float]]], options: dict[str, Any], message: str
) -> None:
    sqlite_workspace.models.register("clf", obj=tabular[0], sample_input={"data": tabular[1]})
    with pytest.raises(InvalidInputError, match=message):
        run(sqlite_workspace, "clf", **options)


def test_a_negative_tolerance() -> None:
    with pytest.raises(InvalidInputError, match="tolerance rtol must be a finite number >= 0"):
        Tolerance(rtol=-1e-3)


def test_without_skl2onnx(
    sqlite_workspace: Workspace, tabular: tuple[Any, list[list[float]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_workspace.models.register("clf", obj=tabular[0], sample_input={"data": tabular[1]})
    monkeypatch.setitem(sys.modules, "skl2onnx", None)  # what an interpreter without the onnx extra does
    with pytest.raises(MissingDependencyError, match=r"pip install 'modelport\[onnx\]'"):
        run(sqlite_workspace, "clf")
    only(sqlite_workspace, "clf:1")
