"""Stand-ins for the parts of the Azure ML SDK that scoring scripts import, used only when the real SDK is absent.

``install()`` appends an import hook to ``sys.meta_path``: ``import azureml.core.model`` (etc.) then finds the real
package first when it is installed, and these modules otherwise.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from types import ModuleType

_PACKAGE = __name__
_install_lock = threading.Lock()


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """The target module ran when it was imported; nothing more to do."""


class AzureMLFinder(importlib.abc.MetaPathFinder):
    """Maps ``azureml[.x.y]`` to ``modelport.runtimes.azureml_compat[.x.y]``; sits last in ``sys.meta_path``."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "azureml" and not fullname.startswith("azureml."):
            return None
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
            sys.meta_path.append(AzureMLFinder())
