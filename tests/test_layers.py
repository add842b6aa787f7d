"""Imports point down only (see DESIGN.md): a lower layer never imports a higher one or a framework that belongs
to a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "modelport"

# package folder -> top-level modules it must not import (third-party or modelport subpackages)
FORBIDDEN = {
    "registry": {"typer", "rich", "starlette", "uvicorn", "fastapi", "modelport.cli", "modelport.batch"},
    "batch": {"typer", "rich", "starlette", "uvicorn", "fastapi", "modelport.cli", "modelport.web"},
    "runtimes": {"typer", "rich", "starlette", "uvicorn", "fastapi", "modelport.cli", "modelport.registry"},
    "serving": {"typer", "rich", "starlette", "uvicorn", "fastapi", "modelport.cli", "modelport.web"},
    "optimize": {"typer", "rich", "starlette", "uvicorn", "fastapi", "modelport.cli", "modelport.web"},
    "web": {"typer", "rich", "modelport.cli"},
    "codecs": {
        "typer",
        "rich",
        "starlette",
        "uvicorn",
        "fastapi",
        "modelport.cli",
        "modelport.registry",
        "modelport.runtimes",
    },
}
BASE = {"errors.py", "settings.py", "_version.py"}


def _imports(path: Path) -> set[str]:
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                names.add(node.module)
    return names


def _violations(path: Path, forbidden: set[str]) -> list[str]:
    return sorted(n for n in _imports(path) for f in forbidden if n == f or n.startswith(f + "."))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_downwards_only(layer: str) -> None:
    bad = {
        str(p.relative_to(PACKAGE)): found
        for p in (PACKAGE / layer).rglob("*.py")
        if (found := _violations(p, FORBIDDEN[layer]))
    }
    assert bad == {}


def test_base_modules_import_nothing_of_modelport_above_them() -> None:
    for name in BASE:
        found = [n for n in _imports(PACKAGE / name) if n.startswith("modelport.") or n in {"typer", "rich"}]
        assert found == [], name
