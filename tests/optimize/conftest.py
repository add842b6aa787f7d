"""Real, small fitted models for the optimizer: tabular, text (FAQ questions), a regressor, a custom estimator."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FAQ = Path(__file__).resolve().parents[2] / "examples" / "data" / "faq_questions.tsv"


class Halver:
    """A custom estimator that skl2onnx has no converter for."""

    def fit(self, x: Any, y: Any) -> Halver:
        return self

    def predict(self, x: Any) -> Any:
        return np.asarray(x, dtype=float)[:, 0] / 2


@pytest.fixture(scope="session")
def tabular() -> tuple[Any, list[list[float]]]:
    """A LogisticRegression on 5 features, and two sample rows."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=300, n_features=5, n_informative=3, random_state=0)
    return LogisticRegression(max_iter=500).fit(x, y), x[:2].round(6).tolist()


@pytest.fixture(scope="session")
def faq_texts() -> tuple[list[str], list[str]]:
    """Titles and first sentences of 30 FAQ questions, labelled by question id."""
    with open(FAQ, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))[:30]
    return [r["Text"] for r in rows] + [r["Text0"].split(". ")[0] for r in rows], [r["Id"] for r in rows] * 2


def _text_pipeline(texts_labels: tuple[list[str], list[str]], sublinear_tf: bool) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, labels = texts_labels
    return make_pipeline(TfidfVectorizer(sublinear_tf=sublinear_tf), LogisticRegression(max_iter=500)).fit(
        texts, labels
    )


@pytest.fixture(scope="session")
def text_model(faq_texts: tuple[list[str], list[str]]) -> Any:
    """TF-IDF + LogisticRegression over the FAQ questions (plain term frequencies)."""
    return _text_pipeline(faq_texts, sublinear_tf=False)


@pytest.fixture(scope="session")
def sublinear_text_model(faq_texts: tuple[list[str], list[str]]) -> Any:
    """The same with ``sublinear_tf=True``, as the FAQ benchmark model is."""
    return _text_pipeline(faq_texts, sublinear_tf=True)


class Doubler:
    """A custom transformer step (no converter either), for a pipeline around it."""

    def fit(self, x: Any, y: Any = None) -> Doubler:
        return self

    def transform(self, x: Any) -> Any:
        return np.asarray(x, dtype=float) * 2

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {}
