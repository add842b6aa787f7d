"""``modelport pipelines``: register, list, show, publish and run batch-scoring pipelines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._output import JSON_OPTION, console, fields, open_workspace, parse_pairs, print_json, table, when
from ._runs import ENGINE_OPTION, batch_settings, start_run

if TYPE_CHECKING:
    from ..batch import PipelineVersion

app = typer.Typer(help="Register, list, show, publish and run batch-scoring pipelines.", no_args_is_help=True)


@app.command()
def register(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The pipeline's YAML file; its scripts are read beside it.")],
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Register a pipeline from YAML: a new version when its steps or scripts changed, else the version it is."""
    from ..batch import PipelineRegistry

    with open_workspace(ctx) as ws:
        registry = PipelineRegistry(ws)
        before = {v.ref for v in registry.list()}
        version = registry.register(path)
    if json:
        print_json({**version.to_dict(), "created": version.ref not in before})
        return
    verb = "registered" if version.ref not in before else "unchanged:"
    console.print(f"{verb} pipeline {version.ref} ({len(version.pipeline.steps)} steps)")


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this pipeline's versions.")] = None,
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """List pipeline versions."""
    from ..batch import PipelineRegistry

    with open_workspace(ctx) as ws:
        versions = PipelineRegistry(ws).list(name)
    if json:
        print_json([v.to_dict() for v in versions])
        return
    if not versions:
        console.print("no pipelines registered: modelport pipelines register FILE.yaml")
        return
    table(
        ["pipeline", "version", "published", "steps", "parameters", "registered"],
        [
            (
                v.name,
                v.version,
                "yes" if v.published else "",
                ", ".join(f"{s.name} ({s.type})" for s in v.pipeline.steps),
                ", ".join(v.pipeline.parameters),
                when(v.created_at),
            )
            for v in versions
        ],
    )


@app.command()
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@published.")],
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Show a pipeline version: its parameters, steps and definition."""
    from ..batch import PipelineRegistry

    with open_workspace(ctx) as ws:
        version = PipelineRegistry(ws).get(ref)
    if json:
        print_json(version.to_dict())
        return
    _describe(version)


def _describe(version: PipelineVersion) -> None:
    pipeline = version.pipeline
    fields(
        {
            "pipeline": version.ref,
            "published": "yes" if version.published else "no",
            "description": pipeline.description,
            "registered": when(version.created_at),
            "files": ", ".join(f["path"] for f in version.files) or "none",
        }
    )
    if pipeline.parameters:
        table(
            ["parameter", "default", "description"],
            [
                (p.name, "(required)" if p.required else repr(p.default), p.description)
                for p in pipeline.parameters.values()
            ],
        )
    console.print(pipeline.to_yaml().rstrip(), markup=False)


@app.command()
def publish(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME (the newest version) or NAME:VERSION.")],
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Publish a version: the one REST callers (POST /pipelines/NAME/runs) and schedules start."""
    from ..batch import PipelineRegistry

    with open_workspace(ctx) as ws:
        version = PipelineRegistry(ws).publish(ref)
    if json:
        print_json(version.to_dict())
        return
    console.print(f"published {version.ref}")


@app.command()
def run(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@published.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Parameter NAME=VALUE, repeatable; overrides its default.")
    ] = None,
    experiment: Annotated[str, typer.Option(help="An experiment name to group runs by.")] = "",
    engine: Annotated[str, ENGINE_OPTION] = "local",
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (local) or actors (ray); default: one per core.")
    ] = None,
    retries: Annotated[
        int | None, typer.Option(help="Attempts after a failed one, per task; overrides the steps' retries.")
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster address for --engine ray ('auto', ray://...); default: $MODELPORT_BATCH_RAY_ADDRESS, "
            "else a local Ray."
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Run here with a progress bar, or start it and return.")
    ] = False,
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Start a run of a pipeline; prints its id (and, with --wait, how it went)."""
    from ..batch import RunRegistry

    settings = batch_settings()
    with open_workspace(ctx) as ws:
        created = RunRegistry(ws).create(
            ref,
            parse_pairs(param, "parameter", typed=False),
            experiment=experiment,
            engine=engine,
            workers=workers,
            retries=retries,
        )
        start_run(ctx, ws, created, wait=wait, json=json, address=address, settings=settings)
