"""The ``modelport`` command: its groups and global options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._version import __version__
from . import envs, keys, models, pipelines, runs, schedules
from .ingest import ingest
from .init import init
from .optimize import optimize
from .predict import predict
from .serve import score, serve
from .server import server

app = typer.Typer(
    name="modelport",
    help="Take a trained model to production and keep it healthy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(models.app, name="models")
app.add_typer(envs.app, name="envs")
app.add_typer(pipelines.app, name="pipelines")
app.add_typer(runs.app, name="runs")
app.add_typer(schedules.app, name="schedules")
app.add_typer(keys.app, name="keys")
app.command()(init)
app.command()(predict)
app.command()(serve)
app.command()(score)
app.command()(optimize)
app.command()(server)
app.command()(ingest)


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
