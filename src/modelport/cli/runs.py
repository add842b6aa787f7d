"""``modelport runs``: list, show, follow the logs of, download, retry and cancel pipeline runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import fsspec
import typer

from ..errors import InvalidInputError, NotFoundError
from ._output import JSON_OPTION, console, open_workspace, print_json, table, when
from ._runs import batch_settings, execute_with_progress, start_run, summary, task_table

if TYPE_CHECKING:
    from ..batch import Run

app = typer.Typer(help="List, show, read the logs of, download, retry and cancel pipeline runs.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline's runs.")] = None,
    status: Annotated[str | None, typer.Option(help="Only runs in this state (queued, running, failed...).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 20,
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """List runs, newest first."""
    from ..batch import RunRegistry

    with open_workspace(ctx) as ws:
        runs = RunRegistry(ws).list(pipeline=pipeline, status=status, limit=limit)
    if json:
        print_json([r.to_dict(tasks=False) for r in runs])
        return
    if not runs:
        asked = [f"{what} {value}" for what, value in (("pipeline", pipeline), ("status", status)) if value]
        console.print(f"no runs with {' and '.join(asked)}" if asked else "no runs yet: modelport pipelines run NAME")
        return
    table(
        ["run", "pipeline", "status", "tasks", "rows out", "trigger", "created", "seconds"],
        [
            (
                r.id,
                f"{r.pipeline}:{r.pipeline_version}",
                r.status,
                ", ".join(f"{n} {s}" for s, n in r.counts().items()) or "none",
                f"{sum(t.rows_out or 0 for t in r.tasks):,}",
                r.trigger,
                when(r.created_at),
                None if r.duration_s is None else f"{r.duration_s:.1f}",
            )
            for r in runs
        ],
    )


@app.command()
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="The run's id (or a unique start of it).")],
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Show a run and its tasks."""
    from ..batch import RunRegistry

    with open_workspace(ctx) as ws:
        run = RunRegistry(ws).get(run_id)
    if json:
        print_json(run.to_dict())
        return
    summary(run)
    task_table(run)


@app.command()
def logs(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="The run's id.")],
    task: Annotated[str | None, typer.Option(help="Only this task (its key, e.g. Device=1/Tag=2).")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Only the failed tasks' logs.")] = False,
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Print the logs of a run's tasks."""
    from ..batch import RunRegistry

    with open_workspace(ctx) as ws:
        run = RunRegistry(ws).get(run_id)
    tasks = [t for t in run.tasks if (task is None or t.key == task) and (not failed or t.status == "failed")]
    if task is not None and not tasks:
        keys = ", ".join(t.key for t in run.tasks[:10])
        raise NotFoundError(f"run {run.id} has no task {task!r}; its tasks: {keys}")
    texts = {t.id: _read_log(t.log) for t in tasks}
    if json:
        print_json([{"step": t.step, "task": t.key, "status": t.status, "log": texts[t.id]} for t in tasks])
        return
    if not tasks:
        console.print(_no_logs(run, failed), markup=False, highlight=False)
    for t in tasks:
        console.print(f"[bold]== {t.step}/{t.key} ({t.status}) ==[/bold]", markup=True)
        text = texts[t.id]
        console.print(
            "(no log: the task has not run)" if text is None else text.rstrip(), markup=False, highlight=False
        )


def _no_logs(run: Run, failed: bool) -> str:
    """Why a run has no task logs to show, rather than nothing."""
    if failed and run.tasks:
        return f"run {run.id} has no failed tasks ({run.status})"
    if run.status in ("queued", "running"):
        return f"run {run.id} is {run.status} and has no tasks yet"
    if run.status == "completed":
        return f"run {run.id} completed with no tasks: it found nothing to score"
    why = f": {run.error}" if run.error else ""
    return f"run {run.id} ended {run.status} before it had any tasks{why}"


def _read_log(url: str | None) -> str | None:
    if url is None:
        return None
    with fsspec.open(url, "rt") as f:
        text: str = f.read()
        return text


@app.command()
def download(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="The run's id.")],
    destination: Annotated[Path, typer.Argument(help="A new or empty folder.")],
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Copy a run's outputs (one folder per step) to a local folder."""
    from ..batch import RunRegistry
    from ..batch.records import below_step

    with open_workspace(ctx) as ws:
        run = RunRegistry(ws).get(run_id)
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise InvalidInputError(f"{destination} already exists and is not an empty folder")
    copied = []
    for t in run.tasks:
        if t.status != "completed" or not t.output:
            continue
        fs, path = fsspec.core.url_to_fs(t.output)
        if fs.isdir(path):
            for found in fs.find(path):
                relative = f"{t.step}/{t.key}/{found[len(path) :].lstrip('/')}"
                target = destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                fs.get_file(found, str(target))
                copied.append(relative)
            continue
        target = destination / t.step / below_step(path, run.id, t.step)
        target.parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(path, str(target))
        copied.append(str(target.relative_to(destination)))
    if json:
        print_json({"run": run.id, "destination": str(destination), "files": copied})
        return
    console.print(f"copied {len(copied)} files of run {run.id} to {destination}")


@app.command()
def retry(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="A failed or canceled run.")],
    address: Annotated[str | None, typer.Option(help="Ray cluster address for runs on the ray engine.")] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Run here with a progress bar, or return.")] = False,
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Run a failed run's failed (and canceled) tasks again; completed tasks and their outputs are kept."""
    from ..batch import RunRegistry

    settings = batch_settings()
    with open_workspace(ctx) as ws:
        run = RunRegistry(ws).retry(run_id)
        start_run(ctx, ws, run, wait=wait, json=json, address=address, settings=settings)


@app.command()
def cancel(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="A queued or running run.")],
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Cancel a run: a queued one at once; a running one stops after the tasks already running."""
    from ..batch import RunRegistry

    with open_workspace(ctx) as ws:
        run = RunRegistry(ws).cancel(run_id)
    if json:
        print_json(run.to_dict(tasks=False))
        return
    if run.status == "canceled":
        console.print(f"canceled run {run.id}")
    else:
        console.print(f"asked run {run.id} to stop; it ends canceled once its running tasks finish")


@app.command(hidden=True)
def execute(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN")],
    address: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Execute a queued run in this process (what a run started without --wait runs in)."""
    with open_workspace(ctx) as ws:
        run = execute_with_progress(ws, run_id, address=address, show=False)
    raise typer.Exit(0 if run.status == "completed" else 1)
