"""``modelport envs``: register, list and show environments; render them as requirements and Dockerfiles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InvalidInputError
from ..registry import EnvironmentVersion
from ..settings import DEFAULT_PORT
from ._output import JSON_OPTION, console, fields, open_workspace, print_json, table, when

app = typer.Typer(help="Register, list and show environments; render Dockerfiles.", no_args_is_help=True)


@app.command()
def register(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Environment name.")],
    python: Annotated[str | None, typer.Option(help="Python version, e.g. 3.11 (default: this Python's).")] = None,
    requirement: Annotated[
        list[str] | None, typer.Option("--requirement", "-r", help="A pip requirement, repeatable.")
    ] = None,
    requirements_file: Annotated[Path | None, typer.Option(help="A pip requirements file.")] = None,
    conda_file: Annotated[Path | None, typer.Option(help="A conda environment YAML to import.")] = None,
    base_image: Annotated[str | None, typer.Option(help="Docker base image (default python:<ver>-slim).")] = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Register an environment; identical content returns the existing version."""
    with open_workspace(ctx) as ws:
        env = ws.environments.register(
            name,
            python=python,
            requirements=requirement,
            requirements_file=requirements_file,
            conda_file=conda_file,
            base_image=base_image,
            description=description,
        )
    if json:
        print_json(env.to_dict())
    else:
        console.print(
            f"Environment [bold]{env.ref}[/bold]: Python {env.python_version}, {len(env.requirements)} requirement(s)"
        )


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this environment's versions.")] = None,
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """List environment versions."""
    with open_workspace(ctx) as ws:
        envs = ws.environments.list(name)
    if json:
        print_json([e.to_dict() for e in envs])
        return
    if not envs:
        console.print("No environments registered yet.")
        return
    table(
        ["NAME", "VERSION", "PYTHON", "REQUIREMENTS", "CREATED"],
        ((e.name, e.version, e.python_version, _summary(e), when(e.created_at)) for e in envs),
    )


def _summary(env: EnvironmentVersion, limit: int = 4) -> str:
    shown = ", ".join(env.requirements[:limit])
    more = len(env.requirements) - limit
    return shown + (f" (+{more} more)" if more > 0 else "")


@app.command()
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME or NAME:VERSION.")],
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Show one environment version."""
    with open_workspace(ctx) as ws:
        env = ws.environments.get(ref)
    if json:
        print_json(env.to_dict())
        return
    fields(
        {
            "environment": env.ref,
            "python": env.python_version,
            "base image": env.base_image or "(python slim)",
            "description": env.description,
            "created": when(env.created_at),
            "content hash": env.content_hash,
        }
    )
    console.print("[bold]requirements:[/bold]")
    for line in env.requirements:
        console.print(f"  {line}", markup=False)


@app.command()
def dockerfile(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME or NAME:VERSION.")],
    model: Annotated[str | None, typer.Option(help="Model reference the image serves by default.")] = None,
    port: Annotated[int, typer.Option(help="Port the service listens on.")] = DEFAULT_PORT,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    requirements_out: Annotated[
        Path | None, typer.Option(help="Also write the environment's requirements.txt here.")
    ] = None,
) -> None:
    """Render the environment as a Dockerfile (and optionally its requirements.txt)."""
    if not 1 <= port <= 65535:
        raise InvalidInputError(f"invalid port {port}: expected 1-65535")
    with open_workspace(ctx) as ws:
        environments = ws.environments
        env = environments.get(ref)
        if model is not None:
            ws.models.get(model)  # fail now, not at container start, when the model does not exist
    text = environments.dockerfile(env, model=model, port=port)
    _write(output, text)
    if requirements_out is not None:
        _write(requirements_out, environments.requirements_text(env))
    if output is not None or requirements_out is not None:
        written = [str(p) for p in (output, requirements_out) if p is not None]
        typer.echo(f"Wrote {', '.join(written)}", err=True)


def _write(path: Path | None, text: str) -> None:
    if path is None:
        typer.echo(text, nl=False)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot write {path}: {exc.strerror or exc}") from exc
