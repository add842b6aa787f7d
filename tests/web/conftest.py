"""Fixtures of the scoring app tests: small real models, fitted once per session; a workspace per module; and the
process state that entry scripts change, put back after each module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelport import Workspace
from tests.serving.helpers import script_state


@pytest.fixture(scope="module", autouse=True)
def _restore_script_state() -> Iterator[None]:
    with script_state():
        yield


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace shared by the tests of one module (registering is the slow part of building an app)."""
    workspace = Workspace(tmp_path_factory.mktemp("ws") / "ws")
    yield workspace
    workspace.close()


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where a module writes its entry scripts."""
    return tmp_path_factory.mktemp("scripts")


@pytest.fixture(scope="session")
def rows() -> np.ndarray:
    """40 rows of 3 features."""
    return np.random.default_rng(7).normal(size=(40, 3)).round(3)


@pytest.fixture(scope="session")
def classifier(rows: np.ndarray) -> Any:
    """A logistic regression on ``rows``: two classes, 0 and 1."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(rows, (rows[:, 0] + rows[:, 1] > 0).astype(int))


@pytest.fixture(scope="session")
def frame_model() -> Any:
    """A pipeline fitted on a DataFrame with the columns ``age`` and ``income``."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = pd.DataFrame({"age": [22.0, 35, 47, 51, 29, 63], "income": [1.5, 3.0, 2.2, 5.1, 1.1, 4.4]})
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, [0, 0, 1, 1, 0, 1])


@pytest.fixture(scope="session")
def text_model() -> Any:
    """A text pipeline (TF-IDF and logistic regression) that labels questions ``python`` or ``sql``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    questions = [
        "how do I write a list comprehension in python",
        "python dictionary get default value",
        "python decorator with arguments",
        "how to join two tables in sql",
        "sql select rows with the maximum value",
        "sql group by with a having clause",
    ]
    labels = ["python", "python", "python", "sql", "sql", "sql"]
    return make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(questions, labels)


@pytest.fixture(scope="session")
def onnx_classifier(classifier: Any) -> Any:
    """``classifier`` converted with skl2onnx: input ``input`` (FP32, [N, 3]); outputs ``label`` (INT64) and
    ``probabilities`` (FP32, [N, 2])."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    return convert_sklearn(
        classifier,
        initial_types=[("input", FloatTensorType([None, 3]))],
        options={id(classifier): {"zipmap": False}},
        target_opset=17,
    )
