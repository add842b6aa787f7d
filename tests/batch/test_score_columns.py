"""A score task works on its rows' columns: a text model gets its strings, a model fitted on a DataFrame gets one
with its feature names, probabilities become a column per class, and Parquet outputs keep the input's types (a
partition whose text column is all missing included)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from modelport import Workspace
from modelport.batch import PipelineRegistry, RunExecutor, RunRegistry
from modelport.batch.records import Run

QUESTIONS = [
    ("how do I reset my password", "account"),
    ("I forgot my password", "account"),
    ("change the email of my account", "account"),
    ("where is my parcel", "shipping"),
    ("my order has not arrived", "shipping"),
    ("how long does delivery take", "shipping"),
    ("I want my money back", "billing"),
    ("I was charged twice", "billing"),
    ("send me an invoice", "billing"),
]


def _run(tmp_path: Path, name: str, model: object, pipeline: str) -> Run:
    """A run of ``pipeline`` (pipeline ``p``, run in ``tmp_path``) in a new workspace holding ``model`` as ``name``."""
    ws = Workspace(tmp_path / "ws")
    ws.models.register(name, obj=model, framework="sklearn")
    (tmp_path / "p.yaml").write_text(pipeline)
    PipelineRegistry(ws).register(tmp_path / "p.yaml")
    return RunExecutor(ws).execute(RunRegistry(ws).create("p", workers=1, cwd=str(tmp_path)).id)


def _threshold_model() -> LogisticRegression:
    return LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])


def test_a_text_model_scores_its_column_of_strings_per_partition(tmp_path: Path) -> None:
    # pandas 3 reads text as its own string dtype, not object: the column must still reach the model as strings
    texts, labels = zip(*QUESTIONS, strict=True)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=200)).fit(texts, labels)
    data = pd.DataFrame({"Shop": ["b", "a", "b", "a", "c"], "Question": [*texts[:4], "where is my invoice, please"]})
    data.to_csv(tmp_path / "questions.csv", index=False)

    run = _run(
        tmp_path,
        "faq",
        model,
        "name: p\nsteps:\n  - {name: s, type: score, model: faq, input: questions.csv, partition_by: [Shop],"
        " features: [Question], output: {name: 'faq-{Shop}.csv'}}\n",
    )

    assert run.status == "completed", run.error
    for task in run.tasks:
        assert task.output is not None and task.partition is not None
        written = pd.read_csv(task.output)
        rows = data[data.Shop == task.partition["Shop"]]
        assert written["Question"].tolist() == rows["Question"].tolist()  # a comma in a question is quoted
        assert written["Prediction"].tolist() == model.predict(rows["Question"].tolist()).tolist()


def test_a_dataframe_model_gets_its_feature_names_and_parquet_keeps_the_input_types(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    train = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    model = LogisticRegression().fit(train, (train.a + train.b > 0).map({True: "up", False: "down"}))
    data = pd.DataFrame(
        {
            "Site": ["n", "s", "n", "s", "s"],
            "Note": ["x", None, "y", None, None],  # all missing in site s
            "b": rng.normal(size=5),
            "a": rng.normal(size=5),
        }
    )
    data.to_parquet(tmp_path / "in.parquet", index=False)

    run = _run(
        tmp_path,
        "updown",
        model,
        "name: p\nsteps:\n  - {name: s, type: score, model: updown, input: in.parquet, partition_by: [Site],"
        " method: predict_proba, mini_batch_size: 2}\n",
    )

    assert run.status == "completed", run.error
    for task in run.tasks:
        assert task.output is not None and task.partition is not None
        written = pd.read_parquet(task.output)
        rows = data[data.Site == task.partition["Site"]].reset_index(drop=True)
        expected = model.predict_proba(rows[["a", "b"]])
        assert list(written.columns) == ["Site", "Note", "b", "a", "Prediction_down", "Prediction_up"]
        np.testing.assert_array_equal(written[["Prediction_down", "Prediction_up"]].to_numpy(), expected)
        assert written["Note"].dtype == data["Note"].dtype  # text, even where every value is missing


def test_a_kept_column_the_input_lacks_fails_the_task_once_with_its_name(tmp_path: Path) -> None:
    pd.DataFrame({"x": [0.5, 2.5]}).to_csv(tmp_path / "in.csv", index=False)

    run = _run(
        tmp_path,
        "m",
        _threshold_model(),
        "name: p\nsteps:\n  - {name: s, type: score, model: m, input: in.csv, features: [x], keep: [x, Site],"
        " retries: 2}\n",
    )

    assert run.status == "failed"
    (task,) = run.tasks
    assert task.attempts == 1  # the data is wrong: trying again would not help
    assert task.error == "the input lacks column(s) 'Site' to keep; it has: x"


def test_outputs_are_the_bytes_pandas_writes_for_dates_categories_and_nullable_numbers(tmp_path: Path) -> None:
    model = _threshold_model()
    data = pd.DataFrame(
        {
            "When": pd.date_range("2026-12-01", periods=6, freq="90min", tz="UTC"),
            "Day": pd.date_range("2026-12-01", periods=6, freq="D"),
            "Kind": pd.Categorical(["a", "b", "a", "b", "a", "b"]),
            "Count": pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
            "Note": ["plain", "with, comma", 'a "quote"', None, "", "x"],
            "x": [0.5, 2.5, 1.5, 3.5, 0.25, 2.75],
        }
    )
    data.to_parquet(tmp_path / "in.parquet", index=False)

    run = _run(
        tmp_path,
        "m",
        model,
        "name: p\nsteps:\n  - {name: s, type: score, model: m, input: in.parquet, partition_by: [Kind],"
        " features: [x], output: {format: csv}}\n",
    )

    assert run.status == "completed", run.error
    read = pd.read_parquet(tmp_path / "in.parquet")
    for task in run.tasks:
        assert task.output is not None and task.partition is not None
        rows = read[read.Kind == task.partition["Kind"]].reset_index(drop=True)
        rows["Prediction"] = model.predict(rows[["x"]].to_numpy())
        assert Path(task.output).read_bytes() == rows.to_csv(index=False).encode()
