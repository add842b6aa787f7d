"""LightGBM and XGBoost native boosters predict what the original booster predicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelport import InvalidInputError, Workspace
from modelport.codecs.signature import Signature, TensorSpec
from modelport.runtimes.boosters import LightGBMRuntime, XGBoostRuntime

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")

NAMES = ["age", "income", "tenure", "visits"]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    features = rng.normal(size=(200, 4))
    labels = (features[:, 0] + 0.5 * features[:, 1] - features[:, 3] > 0).astype(int)
    return features, labels


@pytest.fixture(scope="module")
def lgb_booster(data: tuple[np.ndarray, np.ndarray]) -> Any:
    features, labels = data
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1, "num_threads": 1, "seed": 1}
    return lgb.train(params, lgb.Dataset(features, labels), num_boost_round=10)


@pytest.fixture(scope="module")
def lgb_named_booster(data: tuple[np.ndarray, np.ndarray]) -> Any:
    features, labels = data
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1, "num_threads": 1, "seed": 1}
    return lgb.train(params, lgb.Dataset(features, labels, feature_name=NAMES), num_boost_round=10)


@pytest.fixture(scope="module")
def xgb_booster(data: tuple[np.ndarray, np.ndarray]) -> Any:
    features, labels = data
    params = {"objective": "binary:logistic", "max_depth": 3, "nthread": 1, "seed": 1}
    return xgb.train(params, xgb.DMatrix(features, label=labels), num_boost_round=10)


@pytest.fixture(scope="module")
def xgb_named_booster(data: tuple[np.ndarray, np.ndarray]) -> Any:
    features, labels = data
    params = {"objective": "binary:logistic", "max_depth": 3, "nthread": 1, "seed": 1}
    return xgb.train(params, xgb.DMatrix(features, label=labels, feature_names=NAMES), num_boost_round=10)


# -- LightGBM -------------------------------------------------------------------------------------------------------


def test_lightgbm_in_memory(sqlite_workspace: Workspace, lgb_booster: Any, data: tuple[np.ndarray, np.ndarray]) -> None:
    rows = data[0][:20]
    version = sqlite_workspace.models.register("churn", obj=lgb_booster)

    runtime = sqlite_workspace.models.load("churn")

    assert (version.framework, version.model_path) == ("lightgbm", "model.txt")
    assert isinstance(runtime, LightGBMRuntime)
    np.testing.assert_allclose(runtime.predict(rows.tolist()), lgb_booster.predict(rows), rtol=1e-12)
    np.testing.assert_allclose(runtime.predict(rows[0].tolist()), lgb_booster.predict(rows[:1]), rtol=1e-12)
    assert runtime.describe() == Signature(inputs=[TensorSpec("input", "FP64", [-1, 4])])


def test_lightgbm_from_a_file_with_options(
    sqlite_workspace: Workspace, lgb_booster: Any, data: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    rows = data[0][:20]
    lgb_booster.save_model(str(tmp_path / "churn.txt"))
    version = sqlite_workspace.models.register("churn", tmp_path / "churn.txt")

    raw = sqlite_workspace.models.load("churn", raw_score=True)
    early = sqlite_workspace.models.load("churn", num_iteration=3)

    assert version.framework == "lightgbm"
    np.testing.assert_allclose(raw.predict(rows.tolist()), lgb_booster.predict(rows, raw_score=True), rtol=1e-12)
    np.testing.assert_allclose(early.predict(rows.tolist()), lgb_booster.predict(rows, num_iteration=3), rtol=1e-12)
    with pytest.raises(InvalidInputError, match="option 'raw_score' of the lightgbm runtime must be a bool"):
        sqlite_workspace.models.load("churn", raw_score="yes")


def test_lightgbm_with_feature_names(
    sqlite_workspace: Workspace, lgb_named_booster: Any, data: tuple[np.ndarray, np.ndarray]
) -> None:
    rows = data[0][:5]
    expected = lgb_named_booster.predict(rows)
    sqlite_workspace.models.register("churn", obj=lgb_named_booster)
    runtime = sqlite_workspace.models.load("churn")
    records = [dict(zip(reversed(NAMES), reversed(row.tolist()), strict=True)) for row in rows]

    np.testing.assert_allclose(runtime.predict(records), expected, rtol=1e-12)
    np.testing.assert_allclose(runtime.predict(rows.tolist()), expected, rtol=1e-12)
    assert [i.name for i in runtime.describe().inputs] == NAMES
    with pytest.raises(InvalidInputError, match="the input lacks column\\(s\\) 'visits'"):
        runtime.predict([{k: v for k, v in r.items() if k != "visits"} for r in records])


# -- XGBoost --------------------------------------------------------------------------------------------------------


def test_xgboost_in_memory(sqlite_workspace: Workspace, xgb_booster: Any, data: tuple[np.ndarray, np.ndarray]) -> None:
    rows = data[0][:20]
    version = sqlite_workspace.models.register("churn", obj=xgb_booster)

    runtime = sqlite_workspace.models.load("churn")

    assert (version.framework, version.model_path) == ("xgboost", "model.json")
    assert isinstance(runtime, XGBoostRuntime)
    np.testing.assert_allclose(runtime.predict(rows.tolist()), xgb_booster.predict(xgb.DMatrix(rows)), rtol=1e-6)
    margin = sqlite_workspace.models.load("churn", output_margin=True)
    np.testing.assert_allclose(
        margin.predict(rows.tolist()), xgb_booster.predict(xgb.DMatrix(rows), output_margin=True), rtol=1e-6
    )
    assert runtime.describe() == Signature(inputs=[TensorSpec("input", "FP64", [-1, 4])])


@pytest.mark.parametrize("suffix", [".ubj", ".json"])
def test_xgboost_from_a_file(
    sqlite_workspace: Workspace, xgb_booster: Any, data: tuple[np.ndarray, np.ndarray], tmp_path: Path, suffix: str
) -> None:
    rows = data[0][:20]
    path = tmp_path / f"churn{suffix}"
    xgb_booster.save_model(str(path))

    version = sqlite_workspace.models.register("churn", path)

    assert version.framework == "xgboost"
    runtime = sqlite_workspace.models.load("churn")
    np.testing.assert_allclose(runtime.predict(rows.tolist()), xgb_booster.predict(xgb.DMatrix(rows)), rtol=1e-6)


def test_xgboost_with_feature_names(
    sqlite_workspace: Workspace, xgb_named_booster: Any, data: tuple[np.ndarray, np.ndarray]
) -> None:
    rows = data[0][:5]
    expected = xgb_named_booster.predict(xgb.DMatrix(rows, feature_names=NAMES))
    sqlite_workspace.models.register("churn", obj=xgb_named_booster)
    runtime = sqlite_workspace.models.load("churn")
    columns = {name: rows[:, i].tolist() for i, name in reversed(list(enumerate(NAMES)))}

    np.testing.assert_allclose(runtime.predict(columns), expected, rtol=1e-6)
    np.testing.assert_allclose(runtime.predict(rows.tolist()), expected, rtol=1e-6)
    assert [i.name for i in runtime.describe().inputs] == NAMES


@pytest.mark.parametrize("framework", ["lightgbm", "xgboost"])
@pytest.mark.parametrize("width", [2, 5])
def test_wrong_number_of_features(
    sqlite_workspace: Workspace, lgb_booster: Any, xgb_booster: Any, framework: str, width: int
) -> None:
    """XGBoost itself scores too few columns as missing values; the runtime refuses them like LightGBM does."""
    sqlite_workspace.models.register("churn", obj=lgb_booster if framework == "lightgbm" else xgb_booster)
    runtime = sqlite_workspace.models.load("churn")

    with pytest.raises(InvalidInputError, match="model churn:1 rejected the input"):
        runtime.predict([[1.0] * width, [2.0] * width])


@pytest.mark.parametrize(
    ("framework", "file", "message"),
    [
        ("lightgbm", "model.lgb", "model.lgb is not a LightGBM model file"),
        ("xgboost", "model.ubj", "model.ubj is not an XGBoost model file"),
    ],
)
def test_a_file_the_library_cannot_read(
    sqlite_workspace: Workspace, tmp_path: Path, framework: str, file: str, message: str
) -> None:
    (tmp_path / file).write_bytes(b"\x00 certainly not a booster \xff")
    assert sqlite_workspace.models.register("broken", tmp_path / file).framework == framework

    with pytest.raises(InvalidInputError, match=message):
        sqlite_workspace.models.load("broken")
