"""Output for people (rich tables) and for scripts (``--json``), and the pieces every command shares."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..codecs.json import dumps
from ..errors import InvalidInputError

if TYPE_CHECKING:
    from rich.console import Console

    from ..registry import Workspace

    console: Console
    err_console: Console


@functools.cache
def _console(stderr: bool = False) -> Console:
    """A console, made on first use (rich is not imported by a command that prints nothing through it: ``modelport
    serve`` starts faster without it); when the output is not a terminal (a pipe, a log, CI), wide enough that
    tables do not wrap."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 200
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def __getattr__(name: str) -> Console:
    """``console`` (stdout) and ``err_console`` (stderr), made when a command module first imports them."""
    if name not in ("console", "err_console"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _console(stderr=name == "err_console")


JSON_OPTION = typer.Option("--json", help="Print JSON for scripts instead of tables.")


def print_json(value: Any, indent: bool = True) -> None:
    sys.stdout.write(dumps(value, indent=indent).decode() + "\n")
    sys.stdout.flush()


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
    from rich.table import Table

    out = Table(*columns, title=title, title_justify="left", header_style="bold")
    for row in rows:
        out.add_row(*("" if v is None else str(v) for v in row))
    _console().print(out)


def fields(pairs: Mapping[str, Any]) -> None:
    """Aligned ``key: value`` lines."""
    width = max(len(k) for k in pairs) + 1
    for key, value in pairs.items():
        _console().print(f"[bold]{key + ':':<{width}}[/bold] {'' if value is None else value}", markup=True)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def parse_pairs(items: Sequence[str] | None, what: str, typed: bool) -> dict[str, Any]:
    """``KEY=VALUE`` items to a dict; with ``typed``, values are read as YAML scalars (2 -> int, true -> bool)."""
    result: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"invalid {what} {item!r}: expected KEY=VALUE")
        if typed:
            import yaml  # here, not above: most commands, and `serve` without --option, never read YAML

            try:
                result[key.strip()] = yaml.safe_load(value) if value.strip() else ""
            except yaml.YAMLError:
                result[key.strip()] = value
        else:
            result[key.strip()] = value
    return result


def read_input(path: str) -> bytes:
    """The bytes of ``--input``: a file, or standard input for ``-`` (refused when it is a terminal)."""
    if path == "-":
        if sys.stdin.isatty():
            raise InvalidInputError("no input: pass --input FILE, or pipe JSON into --input -")
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read the input file {path}: {exc.strerror or exc}") from exc


def workspace_home(ctx: typer.Context) -> Path | None:
    """The workspace folder that ``--home`` (or ``MODELPORT_HOME``) names, if any."""
    home = ctx.obj.get("home") if isinstance(ctx.obj, dict) else None
    return Path(home) if home is not None else None


def open_workspace(ctx: typer.Context) -> Workspace:
    from ..registry.workspace import Workspace  # here: SQLAlchemy is imported by the commands that need it

    return Workspace(workspace_home(ctx))
