"""The ``modelport`` command: its groups and global options."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Annotated

import typer
import typer.core
import typer.main
from typer import _click as click  # typer vendors its own click: its Command and Context are these

from .._version import __version__

# Every command, in the order help lists them, as the module and attribute that define it: a command's module (and
# what it imports) is loaded only when that command runs or help lists it, so `modelport serve` does not pay for
# the batch, registry or rich imports of the others.
COMMANDS: dict[str, str] = {
    "init": "init:init",
    "predict": "predict:predict",
    "serve": "serve:serve",
    "score": "serve:score",
    "optimize": "optimize:optimize",
    "server": "server:server",
    "ingest": "ingest:ingest",
    "models": "models:app",
    "envs": "envs:app",
    "pipelines": "pipelines:app",
    "runs": "runs:app",
    "schedules": "schedules:app",
    "keys": "keys:app",
}


def load_command(name: str) -> click.Command:
    """The click command of ``name``: a typer group as it is, a function as a one-command typer app."""
    module, attribute = COMMANDS[name].split(":")
    found = getattr(importlib.import_module(f"{__package__}.{module}"), attribute)
    if isinstance(found, typer.Typer):
        group = typer.main.get_group(found)
        group.name = name
        return group
    single = typer.Typer(add_completion=False)
    single.command(name)(found)
    command = typer.main.get_command(single)
    if command.short_help is None and command.help:  # the root's list: its first paragraph as one flowing line
        command.short_help = " ".join(inspect.cleandoc(command.help).split("\n\n", 1)[0].split())
    return command


class LazyGroup(typer.core.TyperGroup):
    """The root group: lists every name of ``COMMANDS`` and loads a command the first time it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *(n for n in super().list_commands(ctx) if n not in COMMANDS)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            self.add_command(load_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    name="modelport",
    cls=LazyGroup,
    help="Take a trained model to production and keep it healthy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"modelport {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", envvar="MODELPORT_HOME", help="Workspace folder (default .modelport).", show_envvar=True
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Register, serve, batch-score and watch models."""
    ctx.obj = {"home": home, "debug": debug}
