"""``azureml.core.model.Model``: the ``get_model_path`` that scoring scripts call in ``init()``."""

from __future__ import annotations

from typing import Any

from modelport.runtimes import _azureml_context


class Model:
    """The part of Azure ML's ``Model`` class a deployed scoring script uses."""

    @staticmethod
    def get_model_path(model_name: str, version: int | None = None, _workspace: Any = None) -> str:
        """The local path of a registered model's file (a model registered from a file) or folder."""
        return str(_azureml_context.model_path(model_name, version))
