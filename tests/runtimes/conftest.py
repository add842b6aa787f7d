from __future__ import annotations

from typing import Any

import numpy as np
import pytest


@pytest.fixture(scope="session")
def iris() -> tuple[np.ndarray, np.ndarray]:
    """The iris data set (bundled with scikit-learn): 150 rows of 4 features, 3 classes."""
    from sklearn.datasets import load_iris

    data = load_iris()
    return np.asarray(data.data, dtype=np.float64), np.asarray(data.target)


@pytest.fixture(scope="session")
def iris_classifier(iris: tuple[np.ndarray, np.ndarray]) -> Any:
    from sklearn.linear_model import LogisticRegression

    features, labels = iris
    return LogisticRegression(max_iter=500).fit(features, labels)
