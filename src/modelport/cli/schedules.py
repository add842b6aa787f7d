"""``modelport schedules``: run pipelines on a cron schedule (started by ``modelport server``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ._output import JSON_OPTION, console, fields, open_workspace, parse_pairs, print_json, table, when

if TYPE_CHECKING:
    from ..batch.records import Schedule

app = typer.Typer(help="Run pipelines on a cron schedule; modelport server starts them.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The schedule's name.")],
    pipeline: Annotated[str, typer.Option(help="The pipeline: its published version, or NAME:VERSION.")],
    cron: Annotated[str, typer.Option(help="Five cron fields, e.g. '0 * * * *' (hourly), or @daily.")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="Parameter KEY=VALUE, repeatable.")] = None,
    version: Annotated[int | None, typer.Option(help="A fixed version instead of the published one.")] = None,
    experiment: Annotated[str, typer.Option(help="The runs' experiment name.")] = "",
    engine: Annotated[str, typer.Option(help="Engine of the runs: local or ray.")] = "local",
    missed: Annotated[
        str, typer.Option(help="Slots missed while no server ran: latest (run the newest once), skip, or all.")
    ] = "latest",
    timezone: Annotated[str, typer.Option(help="Timezone the cron fields are read in.")] = "UTC",
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Create a schedule; the pipeline and the parameters are checked now."""
    from ..batch.schedules import ScheduleRegistry

    with open_workspace(ctx) as ws:
        schedule = ScheduleRegistry(ws).create(
            name,
            pipeline,
            cron,
            parse_pairs(param, "parameter", typed=True),
            version=version,
            experiment=experiment,
            engine=engine,
            missed=missed,
            timezone=timezone,
        )
    if json:
        print_json(schedule.to_dict())
    else:
        console.print(
            f"Schedule {schedule.name!r} runs {schedule.ref} at '{schedule.cron}' ({schedule.timezone}); "
            f"next: {when(schedule.next_slot)}. modelport server starts its runs."
        )


@app.command("list")
def list_(ctx: typer.Context, json: Annotated[bool, JSON_OPTION] = False) -> None:
    """List the schedules."""
    from ..batch.schedules import ScheduleRegistry

    with open_workspace(ctx) as ws:
        schedules = ScheduleRegistry(ws).list()
    if json:
        print_json([s.to_dict() for s in schedules])
        return
    if not schedules:
        console.print("No schedules yet: modelport schedules create NAME --pipeline P --cron '0 * * * *'")
        return
    table(
        ["NAME", "PIPELINE", "CRON", "TIMEZONE", "MISSED", "STATE", "NEXT"],
        (
            (s.name, s.ref, s.cron, s.timezone, s.missed, "paused" if s.paused else "active", _next(s))
            for s in schedules
        ),
    )


def _next(schedule: Schedule) -> str:
    return "" if schedule.paused else when(schedule.next_slot)


@app.command()
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The schedule's name.")],
    fires: Annotated[int, typer.Option(help="How many of the newest started slots to show.")] = 10,
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Show a schedule and the slots it started most recently."""
    from ..batch.schedules import ScheduleRegistry

    with open_workspace(ctx) as ws:
        schedule = ScheduleRegistry(ws).get(name, fires=fires)
    if json:
        print_json(schedule.to_dict())
        return
    fields(
        {
            "name": schedule.name,
            "pipeline": schedule.ref,
            "cron": f"{schedule.cron} ({schedule.timezone})",
            "parameters": ", ".join(f"{k}={v}" for k, v in schedule.parameters.items()) or "(defaults)",
            "experiment": schedule.experiment,
            "engine": schedule.engine,
            "missed": schedule.missed,
            "state": "paused" if schedule.paused else "active",
            "next slot": _next(schedule),
            "created": when(schedule.created_at),
        }
    )
    if schedule.fires:
        table(
            ["SLOT", "STARTED", "RUN"],
            (
                (when(f.slot), when(f.fired_at), f.run_id or f"(none: {f.error or 'not queued'})")
                for f in schedule.fires
            ),
            title="Started slots",
        )


@app.command()
def pause(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The schedule's name.")]) -> None:
    """Pause a schedule: it starts nothing until resumed."""
    from ..batch.schedules import ScheduleRegistry

    with open_workspace(ctx) as ws:
        ScheduleRegistry(ws).pause(name)
    console.print(f"Schedule {name!r} is paused.")


@app.command()
def resume(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The schedule's name.")]) -> None:
    """Resume a schedule from its next slot after now (slots passed while paused are not started)."""
    from ..batch.schedules import ScheduleRegistry

    with open_workspace(ctx) as ws:
        schedule = ScheduleRegistry(ws).resume(name)
    console.print(f"Schedule {name!r} is active; next: {when(schedule.next_slot)}.")


@app.command()
def delete(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The schedule's name.")]) -> None:
    """Delete a schedule (the runs it started stay)."""
    from ..batch.schedules import ScheduleRegistry

    with open_workspace(ctx) as ws:
        ScheduleRegistry(ws).delete(name)
    console.print(f"Schedule {name!r} is deleted.")
