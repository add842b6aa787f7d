"""The scikit-learn runtime predicts what the original estimator predicts, from every payload shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelport import InvalidInputError, Workspace
from modelport.codecs.signature import Signature, TensorSpec
from modelport.runtimes.sklearn import SklearnRuntime

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def test_predict_and_predict_proba(
    sqlite_workspace: Workspace, iris: tuple[np.ndarray, np.ndarray], iris_classifier: Any
) -> None:
    features, _ = iris
    rows = features[::10]
    sqlite_workspace.models.register("iris", obj=iris_classifier)
    sqlite_workspace.models.register("iris-proba", obj=iris_classifier, runtime_options={"method": "predict_proba"})

    labels = sqlite_workspace.models.load("iris")
    probabilities = sqlite_workspace.models.load("iris-proba")

    assert isinstance(labels, SklearnRuntime) and labels.ready
    np.testing.assert_array_equal(labels.predict(rows.tolist()), iris_classifier.predict(rows))
    np.testing.assert_array_equal(labels.predict({"data": rows.tolist()}), iris_classifier.predict(rows))
    np.testing.assert_array_equal(labels.predict(rows), iris_classifier.predict(rows))
    np.testing.assert_allclose(probabilities.predict(rows.tolist()), iris_classifier.predict_proba(rows))
    # a load option overrides the registered one
    overridden = sqlite_workspace.models.load("iris-proba", method="predict_log_proba")
    np.testing.assert_allclose(overridden.predict(rows.tolist()), iris_classifier.predict_log_proba(rows))
    decision = sqlite_workspace.models.load("iris", method="decision_function")
    np.testing.assert_allclose(decision.predict(rows.tolist()), iris_classifier.decision_function(rows))


def test_a_single_row(sqlite_workspace: Workspace, iris_classifier: Any) -> None:
    sqlite_workspace.models.register("iris", obj=iris_classifier)
    runtime = sqlite_workspace.models.load("iris")

    row = [6.3, 3.3, 6.0, 2.5]

    np.testing.assert_array_equal(runtime.predict(row), iris_classifier.predict([row]))
    np.testing.assert_array_equal(runtime.predict({"data": row}), iris_classifier.predict([row]))


def test_a_model_registered_from_a_file(sqlite_workspace: Workspace, iris_classifier: Any, tmp_path: Path) -> None:
    import joblib

    joblib.dump(iris_classifier, tmp_path / "classifier.pkl")
    sqlite_workspace.models.register("iris", tmp_path / "classifier.pkl", runtime_options={"method": "predict_proba"})

    runtime = sqlite_workspace.models.load("iris")

    np.testing.assert_allclose(
        runtime.predict([[5.0, 3.4, 1.5, 0.2]]), iris_classifier.predict_proba([[5.0, 3.4, 1.5, 0.2]])
    )


@pytest.fixture(scope="module")
def frame_pipeline(iris: tuple[np.ndarray, np.ndarray]) -> tuple[Any, pd.DataFrame]:
    """A pipeline fitted on a DataFrame: scaled numbers and a one-hot encoded text column."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features, labels = iris
    frame = pd.DataFrame(features, columns=FEATURES)
    frame["garden"] = np.where(np.arange(len(frame)) % 3 == 0, "north", "south")
    pipeline = make_pipeline(
        make_column_transformer((StandardScaler(), FEATURES), (OneHotEncoder(), ["garden"])),
        LogisticRegression(max_iter=500),
    ).fit(frame, labels)
    return pipeline, frame.iloc[::15].reset_index(drop=True)


def test_pipeline_with_feature_names(sqlite_workspace: Workspace, frame_pipeline: tuple[Any, pd.DataFrame]) -> None:
    pipeline, sample = frame_pipeline
    expected = pipeline.predict(sample)
    sqlite_workspace.models.register("garden", obj=pipeline)
    runtime = sqlite_workspace.models.load("garden")

    records = sample.to_dict(orient="records")
    shuffled = [{"extra": 1, **dict(reversed(list(r.items())))} for r in records]
    columns = sample.to_dict(orient="list")
    rows = sample.to_numpy().tolist()

    np.testing.assert_array_equal(runtime.predict(records), expected)
    np.testing.assert_array_equal(runtime.predict({"data": shuffled}), expected)
    np.testing.assert_array_equal(runtime.predict(columns), expected)
    np.testing.assert_array_equal(runtime.predict(rows), expected)
    np.testing.assert_array_equal(runtime.predict(rows[0]), expected[:1])
    np.testing.assert_array_equal(runtime.predict(sample), expected)
    assert runtime.describe() == Signature(inputs=[TensorSpec(n, "FP64", [-1]) for n in [*FEATURES, "garden"]])


def test_pipeline_input_problems_name_the_columns(
    sqlite_workspace: Workspace, frame_pipeline: tuple[Any, pd.DataFrame]
) -> None:
    pipeline, sample = frame_pipeline
    sqlite_workspace.models.register("garden", obj=pipeline)
    runtime = sqlite_workspace.models.load("garden")
    records = sample.drop(columns=["garden"]).to_dict(orient="records")

    with pytest.raises(
        InvalidInputError, match=r"the input lacks column\(s\) 'garden'; the model expects sepal_length"
    ):
        runtime.predict(records)
    with pytest.raises(InvalidInputError, match="each row has 4 values; the model expects 5: sepal_length"):
        runtime.predict(sample.drop(columns=["garden"]).to_numpy().tolist())


@pytest.mark.parametrize("named", [False, True], ids=["unnamed", "named"])
def test_missing_values_as_json_null(
    sqlite_workspace: Workspace, iris: tuple[np.ndarray, np.ndarray], named: bool
) -> None:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    features, labels = iris
    training = pd.DataFrame(features, columns=FEATURES) if named else features
    pipeline = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=500)).fit(training, labels)
    sqlite_workspace.models.register("imputed", obj=pipeline)
    runtime = sqlite_workspace.models.load("imputed")
    rows: list[list[float | None]] = [[5.1, None, 1.4, 0.2], [None, 3.0, 5.0, 1.8]]
    expected_input = np.array([[5.1, np.nan, 1.4, 0.2], [np.nan, 3.0, 5.0, 1.8]])

    expected = pipeline.predict(pd.DataFrame(expected_input, columns=FEATURES) if named else expected_input)

    np.testing.assert_array_equal(runtime.predict(rows), expected)
    np.testing.assert_array_equal(runtime.predict({"data": rows[:1]}), expected[:1])


def test_text_pipeline(sqlite_workspace: Workspace) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = ["how do I sort a list", "sort a dict by value", "read a csv file", "write a csv file with pandas"]
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, ["sort", "sort", "csv", "csv"])
    sqlite_workspace.models.register("faq", obj=pipeline, runtime_options={"method": "predict_proba"})
    runtime = sqlite_workspace.models.load("faq")
    questions = ["sort my list please", "csv reading"]

    np.testing.assert_allclose(runtime.predict(questions), pipeline.predict_proba(questions))
    np.testing.assert_allclose(runtime.predict({"data": questions}), pipeline.predict_proba(questions))
    assert sqlite_workspace.models.load("faq", method="predict").predict(questions).tolist() == ["sort", "csv"]


def test_describe(sqlite_workspace: Workspace, iris_classifier: Any) -> None:
    sqlite_workspace.models.register("iris", obj=iris_classifier)
    sqlite_workspace.models.register("sampled", obj=iris_classifier, sample_input={"data": [[1.0, 2.0, 3.0, 4.0]]})

    assert sqlite_workspace.models.load("iris").describe() == Signature(inputs=[TensorSpec("input", "FP64", [-1, 4])])
    assert sqlite_workspace.models.load("sampled").describe() == Signature(
        inputs=[TensorSpec("input", "FP64", [-1, 4])], outputs=[]
    )


def test_a_method_the_model_lacks(sqlite_workspace: Workspace) -> None:
    from sklearn.linear_model import LinearRegression

    sqlite_workspace.models.register("line", obj=LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]))

    with pytest.raises(InvalidInputError, match=r"model line:1 \(LinearRegression\) has no predict_proba\(\) method"):
        sqlite_workspace.models.load("line", method="predict_proba")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([["a", "b", "c", "d"]], "model iris:1 rejected the input"),
        ([[1.0, 2.0]], "model iris:1 rejected the input: X has 2 features"),
        ([[1.0, 2.0, 3.0, 4.0], [1.0]], "ragged"),
        ("5.1,3.5,1.4,0.2", "the input is a str"),
        ([], "the input is an empty list"),
    ],
)
def test_bad_payloads(sqlite_workspace: Workspace, iris_classifier: Any, payload: Any, message: str) -> None:
    sqlite_workspace.models.register("iris", obj=iris_classifier)
    runtime = sqlite_workspace.models.load("iris")

    with pytest.raises(InvalidInputError, match=message):
        runtime.predict(payload)


def test_unload(sqlite_workspace: Workspace, iris_classifier: Any) -> None:
    sqlite_workspace.models.register("iris", obj=iris_classifier)
    runtime = sqlite_workspace.models.load("iris")

    runtime.unload()

    assert not runtime.ready
    assert repr(runtime) == "<SklearnRuntime iris:1 ready=False>"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"garbage bytes", r"model\.joblib is not a loadable joblib or pickle file: ValueError"),
        (b"", "is not a loadable joblib or pickle file: EOFError"),
        (  # pickle.dumps of a class whose module this environment lacks
            b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x0fno_such_package\x94\x8c\x05Model\x94\x93\x94.",
            "ModuleNotFoundError: No module named 'no_such_package'",
        ),
    ],
)
def test_a_file_joblib_cannot_load(sqlite_workspace: Workspace, tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "model.joblib").write_bytes(content)
    sqlite_workspace.models.register("broken", tmp_path / "model.joblib")

    with pytest.raises(InvalidInputError, match=message):
        sqlite_workspace.models.load("broken")
