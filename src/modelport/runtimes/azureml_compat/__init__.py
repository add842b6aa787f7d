"""Stand-ins for the parts of the Azure ML SDK that scoring scripts import, used only when the real SDK is absent.

``install()`` puts an import hook first in ``sys.meta_path``. For every ``azureml[.x.y]`` import it asks the normal
path finder whether the real module exists; if so it steps aside, otherwise it answers with
``modelport.runtimes.azureml_compat[.x.y]`` itself, the very same module object, so state such as the flag that
``@rawhttp`` sets is shared between the script's import path and modelport's.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

_PACKAGE = __name__
_HERE = os.path.dirname(os.path.abspath(__file__))
_install_lock = threading.Lock()


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """The target module ran when it was imported; nothing more to do."""


def _is_ours(spec: importlib.machinery.ModuleSpec) -> bool:
    location = spec.origin or next(iter(spec.submodule_search_locations or []), "")
    return os.path.abspath(location).startswith(_HERE)


class AzureMLFinder(importlib.abc.MetaPathFinder):
    """Maps ``azureml[.x.y]`` to ``modelport.runtimes.azureml_compat[.x.y]`` when the real module is missing."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "azureml" and not fullname.startswith("azureml."):
            return None
        real = importlib.machinery.PathFinder.find_spec(fullname, path)
        if real is not None and not _is_ours(real):
            return None  # the Azure ML SDK provides this module: use it
        target_name = _PACKAGE + fullname[len("azureml") :]
        try:
            found = importlib.util.find_spec(target_name)
        except ModuleNotFoundError:
            return None
        if found is None:
            return None
        return importlib.util.spec_from_loader(
            fullname, _AliasLoader(target_name), is_package=found.submodule_search_locations is not None
        )


def install() -> None:
    """Make ``import azureml...`` work inside scoring scripts; idempotent."""
    with _install_lock:
        if not any(isinstance(f, AzureMLFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, AzureMLFinder())
