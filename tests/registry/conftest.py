from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def line_model() -> Any:
    """A tiny fitted scikit-learn model: y = 2x + 1."""
    from sklearn.linear_model import LinearRegression

    return LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
