"""Equivalent conversions are registered as a new ONNX version of the same model that answers like the original."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from modelport import Workspace
from modelport.optimize import OptimizeReport, optimize

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")


def run(ws: Workspace, ref: str, **options: Any) -> OptimizeReport:
    """optimize with few benchmark rounds, and no speed threshold: the tests never depend on timings."""
    return optimize(ws, ref, **{"repeat": 3, "min_speedup": 0.0, **options})


def test_logistic_regression_is_registered_with_its_provenance(
    sqlite_workspace: Workspace, tabular: tuple[Any, list[list[float]]]
) -> None:
    model, rows = tabular
    ws = sqlite_workspace
    source = ws.models.register(
        "clf",
        obj=model,
        sample_input={"data": rows},
        sample_output=model.predict_proba(np.asarray(rows)),
        tags={"team": "risk"},
        runtime_options={"method": "predict_proba"},
    )
    steps: list[str] = []
    report = run(ws, "clf", progress=steps.append)

    assert report.outcome == "registered" and report.reason is None
    assert report.version == "clf:2"
    assert report.equivalence is not None and report.equivalence.equivalent
    assert report.equivalence.rows_checked == 2 + 256
    assert 0 < report.equivalence.max_abs_diff < 1e-5  # float32 against float64, yet within the tolerance
    assert report.timing is not None and report.timing.speedup_one > 0 and report.timing.speedup_batch > 0
    assert [s.split()[0] for s in steps] == ["converting", "comparing", "timing"]

    new = ws.models.get("clf:2")
    assert new.framework == "onnx"
    assert new.tags["optimized_from"] == "clf:1"
    assert float(new.tags["speedup"]) == round(report.timing.speedup_one, 2)
    assert new.tags["tolerance"] == "rtol=0.0001,atol=1e-05"
    assert new.tags["team"] == "risk"
    assert new.runtime_options == {"outputs": ["probabilities"]}
    assert new.sample_input == source.sample_input and new.sample_output == source.sample_output
    assert new.signature == source.signature
    measured = new.properties["optimize"]
    assert measured["source"] == "clf:1" and measured["equivalence"]["equivalent"] is True
    assert measured["timing"]["speedup_one_row"] == round(report.timing.speedup_one, 2)

    original, onnx = ws.models.load("clf:1"), ws.models.load("clf:2")
    x = np.random.default_rng(1).normal(size=(20, 5)).tolist()
    np.testing.assert_allclose(onnx.predict({"data": x}), original.predict({"data": x}), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(onnx.predict(rows[0]), original.predict(rows[0]), rtol=1e-4, atol=1e-5)


def test_labels_are_compared_exactly_and_served_as_labels(
    sqlite_workspace: Workspace, tabular: tuple[Any, list[list[float]]]
) -> None:
    model, rows = tabular
    sqlite_workspace.models.register("clf", obj=model, sample_input={"data": rows})  # method predict
    report = run(sqlite_workspace, "clf")
    assert report.outcome == "registered" and report.output == "label"
    assert report.equivalence is not None and report.equivalence.exact
    onnx = sqlite_workspace.models.load("clf:2")
    assert onnx.predict(rows).tolist() == model.predict(np.asarray(rows)).tolist()


def test_text_pipeline_is_equivalent_and_registered(sqlite_workspace: Workspace, text_model: Any) -> None:
    question = ["how do I remove an element from an array"]
    sqlite_workspace.models.register(
        "faq", obj=text_model, sample_input={"data": question}, runtime_options={"method": "predict_proba"}
    )
    report = run(sqlite_workspace, "faq")
    assert report.outcome == "registered", report.reason
    assert report.layout is not None and report.layout.startswith("text")
    assert report.equivalence is not None and report.equivalence.rows_checked == 1 + 256
    onnx = sqlite_workspace.models.load("faq:2")
    asked = [*question, "How can I check whether a JavaScript array contains a value?", ""]
    np.testing.assert_allclose(onnx.predict(asked), text_model.predict_proba(asked), rtol=1e-4, atol=1e-5)


def test_sublinear_tf_is_converted_as_scikit_learn_computes_it(
    sqlite_workspace: Workspace, sublinear_text_model: Any
) -> None:
    """The FAQ benchmark model: skl2onnx alone computes log(1 + tf) where scikit-learn computes 1 + log(tf); a
    question with a repeated word (tf = 2) and one without (tf = 1) both answer as the original."""
    question = ["how do I remove an element from an array, and the element after it"]
    sqlite_workspace.models.register(
        "faq", obj=sublinear_text_model, sample_input={"data": question}, runtime_options={"method": "predict_proba"}
    )
    report = run(sqlite_workspace, "faq")
    assert report.outcome == "registered", report.reason
    assert any(note.startswith("sublinear_tf: 1 + log(tf)") for note in report.notes)
    onnx = sqlite_workspace.models.load("faq:2")
    asked = [*question, "array array array", "How can I check whether a JavaScript array contains a value?", ""]
    np.testing.assert_allclose(onnx.predict(asked), sublinear_text_model.predict_proba(asked), rtol=1e-4, atol=1e-6)


def test_a_separate_sublinear_tfidf_transformer(sqlite_workspace: Workspace, faq_texts: Any) -> None:
    """CountVectorizer then TfidfTransformer(sublinear_tf=True): the same fix, on the transformer's own converter."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, labels = faq_texts
    model = make_pipeline(
        CountVectorizer(), TfidfTransformer(sublinear_tf=True, norm=None), LogisticRegression(max_iter=500)
    ).fit(texts, labels)
    sqlite_workspace.models.register(
        "counts", obj=model, sample_input={"data": texts[:2]}, runtime_options={"method": "predict_proba"}
    )
    report = run(sqlite_workspace, "counts")
    assert report.outcome == "registered", report.reason
    asked = ["sort sort sort an array", texts[3]]
    onnx = sqlite_workspace.models.load("counts:2")
    np.testing.assert_allclose(onnx.predict(asked), model.predict_proba(asked), rtol=1e-4, atol=1e-6)
    assert model.steps[1][1].sublinear_tf  # the fitted model is left as it was
    import onnx

    version = sqlite_workspace.models.get("counts:2")
    proto = onnx.load(str(sqlite_workspace.models.materialize(version)[0] / version.model_path))
    # skl2onnx declares [1, C] after a CountVectorizer; onnxruntime would warn on every batch of more rows
    assert [o.type.tensor_type.shape.dim[0].dim_param for o in proto.graph.output] == ["N", "N"]


def test_a_regressor_answers_in_the_original_shape(sqlite_workspace: Workspace) -> None:
    from sklearn.linear_model import LinearRegression

    x = np.random.default_rng(0).normal(size=(50, 3))
    model = LinearRegression().fit(x, x @ [1.0, -2.0, 0.5] + 3)
    sqlite_workspace.models.register("line", obj=model, sample_input={"data": x[:3].tolist()})
    report = run(sqlite_workspace, "line")
    assert report.outcome == "registered", report.reason
    answer = sqlite_workspace.models.load("line:2").predict(x[:4].tolist())
    assert answer.shape == (4,)  # [N], as LinearRegression.predict, not skl2onnx's [N, 1]
    np.testing.assert_allclose(answer, model.predict(x[:4]), rtol=1e-4, atol=1e-4)


def test_columns_keep_their_names(sqlite_workspace: Workspace) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    frame, target = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(frame, target)
    columns = {"data": frame.head(2).to_dict("list")}  # "sepal length (cm)": [...], ...
    sqlite_workspace.models.register(
        "iris", obj=model, sample_input=columns, runtime_options={"method": "predict_proba"}
    )
    report = run(sqlite_workspace, "iris", alias="fast")
    assert report.outcome == "registered", report.reason
    assert report.alias == "fast" and sqlite_workspace.models.get("iris@fast").ref == "iris:2"
    onnx = sqlite_workspace.models.load("iris@fast")
    asked = frame.iloc[40:45].to_dict("list")
    np.testing.assert_allclose(onnx.predict(asked), model.predict_proba(frame.iloc[40:45]), rtol=1e-4, atol=1e-5)


def test_dry_run_measures_and_registers_nothing(
    sqlite_workspace: Workspace, tabular: tuple[Any, list[list[float]]]
) -> None:
    model, rows = tabular
    sqlite_workspace.models.register("clf", obj=model, sample_input={"data": rows})
    report = run(sqlite_workspace, "clf", dry_run=True, alias="fast")
    assert report.outcome == "dry-run" and not report.refused
    assert report.timing is not None and report.equivalence is not None
    assert [v.ref for v in sqlite_workspace.models.list()] == ["clf:1"]
    assert sqlite_workspace.models.get("clf:1").aliases == ()


def test_a_model_without_a_sample_is_checked_on_generated_rows(
    sqlite_workspace: Workspace, tabular: tuple[Any, list[list[float]]]
) -> None:
    sqlite_workspace.models.register("clf", obj=tabular[0], runtime_options={"method": "predict_proba"})
    report = run(sqlite_workspace, "clf", generated_rows=32)
    assert report.outcome == "registered", report.reason
    assert report.equivalence is not None and report.equivalence.rows_checked == 32


def test_report_to_dict_is_json(sqlite_workspace: Workspace, tabular: tuple[Any, list[list[float]]]) -> None:
    import json

    from modelport.codecs.json import dumps

    sqlite_workspace.models.register("clf", obj=tabular[0], sample_input={"data": tabular[1]})
    data = json.loads(dumps(run(sqlite_workspace, "clf", dry_run=True).to_dict()))
    assert data["outcome"] == "dry-run"
    assert set(data["timing"]) >= {"original_one_row_us", "onnx_one_row_us", "speedup_one_row", "speedup_batch"}
    assert data["equivalence"]["max_abs_diff"] is None  # labels: compared exactly, no difference to speak of


def test_the_original_serving_options_carry_over_and_its_sklearn_ones_do_not(
    sqlite_workspace: Workspace, tabular: tuple[Any, list[list[float]]]
) -> None:
    model, rows = tabular
    sqlite_workspace.models.register(
        "batched",
        obj=model,
        sample_input={"data": rows},
        runtime_options={"method": "predict_proba", "max_batch_size": 16, "max_latency_ms": 2.0},
    )
    report = run(sqlite_workspace, "batched")

    assert report.outcome == "registered"
    new = sqlite_workspace.models.get("batched:2")
    assert new.runtime_options == {"max_batch_size": 16, "max_latency_ms": 2.0, "outputs": ["probabilities"]}
    assert sqlite_workspace.models.load("batched:2").serving_options == {"max_batch_size": 16, "max_latency_ms": 2.0}
