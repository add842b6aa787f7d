"""Helpers for the tests of the scoring service and app: Azure ML style entry scripts registered as models, and the
process state that loading such scripts changes, put back afterwards."""

from __future__ import annotations

import os
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modelport import ModelVersion, Workspace
from modelport.runtimes import _azureml_context
from tests.helpers import write_tree


def register_script(
    ws: Workspace,
    name: str,
    root: Path,
    source: str,
    *,
    code_files: dict[str, str] | None = None,
    sample_input: Any = None,
    sample_output: Any = None,
) -> ModelVersion:
    """Register a new version of ``name``: a folder holding a placeholder weights file, served by ``score.py``
    (``source``, dedented) with ``code_files`` beside it in its source directory."""
    folder = root / f"{name}-{uuid.uuid4().hex[:8]}"
    code = write_tree(folder / "code", {"score.py": textwrap.dedent(source), **(code_files or {})})
    model = write_tree(folder / "model", {"weights.json": '{"scale": 10}'})
    return ws.models.register(
        name,
        model,
        framework="custom",
        entry_script="score.py",
        source_directory=code,
        sample_input=sample_input,
        sample_output=sample_output,
    )


@contextmanager
def script_state() -> Iterator[None]:
    """Put back what loading entry scripts changes in this process: ``sys.path``, the scripts' modules,
    ``AZUREML_MODEL_DIR`` and the models that ``Model.get_model_path`` knows."""
    path = list(sys.path)
    modules = set(sys.modules)
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
    loaded = dict(_azureml_context._loaded)
    resolver = _azureml_context._resolver
    try:
        yield
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            if name.startswith("modelport_entry_"):
                del sys.modules[name]
        if model_dir is None:
            os.environ.pop("AZUREML_MODEL_DIR", None)
        else:
            os.environ["AZUREML_MODEL_DIR"] = model_dir
        _azureml_context._loaded.clear()
        _azureml_context._loaded.update(loaded)
        _azureml_context._resolver = resolver
