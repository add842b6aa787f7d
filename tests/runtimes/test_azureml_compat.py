"""The ``azureml`` import shim stands in for the Azure ML SDK only where the SDK is not installed."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelport import NotFoundError
from modelport.runtimes import _azureml_context, azureml_compat
from tests.helpers import write_tree

SHIM_MODEL = Path(azureml_compat.__file__).parent / "core" / "model.py"


def _imported(module: str) -> Any:
    """``import module`` as a scoring script writes it (the name is unknown to type checkers)."""
    return importlib.import_module(module)


def _azureml_modules() -> list[str]:
    return [name for name in sys.modules if name.split(".")[0] == "azureml"]


@pytest.fixture
def no_azureml(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process as if nothing had imported ``azureml`` or installed the shim; restored afterwards."""
    finders = [f for f in sys.meta_path if not isinstance(f, azureml_compat.AzureMLFinder)]
    monkeypatch.setattr(sys, "meta_path", finders)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(_azureml_context, "_loaded", {})
    monkeypatch.setattr(_azureml_context, "_resolver", None)
    saved = {name: sys.modules.pop(name) for name in _azureml_modules()}
    yield
    for name in _azureml_modules():
        del sys.modules[name]
    sys.modules.update(saved)


@pytest.mark.usefixtures("no_azureml")
def test_the_shim_is_used_when_the_sdk_is_absent() -> None:
    assert importlib.util.find_spec("azureml") is None  # the Azure ML SDK is not installed here

    azureml_compat.install()
    from_core = _imported("azureml.core").Model
    model = _imported("azureml.core.model").Model

    assert Path(inspect.getfile(model)) == Path(inspect.getfile(from_core)) == SHIM_MODEL


@pytest.mark.usefixtures("no_azureml")
def test_an_installed_sdk_wins(tmp_path: Path) -> None:
    site = write_tree(
        tmp_path / "site",
        {
            "azureml/__init__.py": "",
            "azureml/core/__init__.py": "from .model import Model\n",
            "azureml/core/model.py": (
                "class Model:\n"
                "    @staticmethod\n"
                "    def get_model_path(model_name, version=None, _workspace=None):\n"
                "        return 'from the real SDK'\n"
            ),
        },
    )
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()

    azureml_compat.install()
    model = _imported("azureml.core.model").Model

    assert model.get_model_path("iris") == "from the real SDK"
    assert Path(inspect.getfile(model)) == site / "azureml" / "core" / "model.py"


@pytest.mark.usefixtures("no_azureml")
def test_the_shim_answers_from_the_loaded_models(tmp_path: Path) -> None:
    azureml_compat.install()
    model = _imported("azureml.core.model").Model

    _azureml_context.register("iris", 2, tmp_path / "iris.joblib", None)
    _azureml_context.register("iris", 1, tmp_path / "old.joblib", None)

    assert model.get_model_path("iris") == str(tmp_path / "iris.joblib")  # the newest loaded version
    assert model.get_model_path("iris", version=1) == str(tmp_path / "old.joblib")
    assert model.get_model_path(model_name="iris", version=2, _workspace=object()) == str(tmp_path / "iris.joblib")
    _azureml_context.unregister("iris", 2)
    assert model.get_model_path("iris") == str(tmp_path / "old.joblib")


@pytest.mark.usefixtures("no_azureml")
def test_the_shim_asks_the_workspace_for_other_models(tmp_path: Path) -> None:
    asked: list[tuple[str, int | None]] = []

    def resolver(name: str, version: int | None) -> Path:
        asked.append((name, version))
        return tmp_path / name

    _azureml_context.register("iris", 1, tmp_path / "iris.joblib", resolver)

    assert _azureml_context.model_path("labels") == tmp_path / "labels"
    assert _azureml_context.model_path("iris", 3) == tmp_path / "iris"
    assert asked == [("labels", None), ("iris", 3)]


@pytest.mark.usefixtures("no_azureml")
def test_a_model_not_loaded_and_no_workspace() -> None:
    with pytest.raises(NotFoundError, match="model 'iris:3' is not loaded here and no workspace is available"):
        _azureml_context.model_path("iris", 3)


@pytest.mark.usefixtures("no_azureml")
def test_install_is_idempotent() -> None:
    azureml_compat.install()
    azureml_compat.install()

    finders = [f for f in sys.meta_path if isinstance(f, azureml_compat.AzureMLFinder)]
    assert len(finders) == 1
    assert finders[0].find_spec("azureml_other") is None
    assert finders[0].find_spec("azureml.no_such_module") is None
    spec = finders[0].find_spec("azureml.core")
    assert spec is not None and spec.name == "azureml.core"
