"""What ``pipelines run`` and ``runs retry`` share: executing a run here with a progress bar, or starting it in a
background process, and printing how it went."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ._output import console, err_console, fields, print_json, table, when

if TYPE_CHECKING:
    from ..batch import Progress as RunProgress
    from ..batch import Run
    from ..registry import Workspace
    from ..settings import BatchSettings

ENGINE_OPTION = typer.Option(help="Where tasks run: local (a process pool here) or ray.")


def batch_settings() -> BatchSettings:
    """The batch settings from the environment, read before a run is created or queued again: a bad one
    (``MODELPORT_BATCH_WORKERS=x``) stops the command there, rather than leaving a queued run behind that the
    command could not execute (and a server would later execute with other settings)."""
    from ..settings import BatchSettings

    return BatchSettings()


def start_run(
    ctx: typer.Context,
    ws: Workspace,
    run: Run,
    *,
    wait: bool,
    json: bool,
    address: str | None,
    settings: BatchSettings | None = None,
) -> None:
    if not wait:
        _detach(ctx, ws, run, address)
        if json:
            print_json({"id": run.id, "status": run.status})
        else:
            console.print(f"started run {run.id} ({run.pipeline}:{run.pipeline_version}), status {run.status}")
            console.print(f"follow it with: modelport runs show {run.id}")
        return
    finished = execute_with_progress(ws, run.id, address=address, show=not json, settings=settings)
    if json:
        print_json(finished.to_dict())
    else:
        summary(finished)
    if finished.status != "completed":
        raise typer.Exit(1)


def execute_with_progress(
    ws: Workspace, run_id: str, *, address: str | None, show: bool, settings: BatchSettings | None = None
) -> Run:
    from ..batch import RunExecutor

    if not show or not err_console.is_terminal:
        return RunExecutor(ws, address=address, on_progress=_plain_progress(show), settings=settings).execute(run_id)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("tasks, {task.fields[failed]} failed, {task.fields[rows]} rows ({task.fields[rate]} rows/s)"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as bar:
        bars: dict[str, TaskID] = {}

        def update(p: RunProgress) -> None:
            if p.step not in bars:
                bars[p.step] = bar.add_task(p.step, total=None, failed=0, rows=0, rate=0)
            if p.planning:  # no tasks yet: a bar that waits, and how much of the input has been read
                bar.update(bars[p.step], description=_planning(p))
                return
            rate = f"{p.rows / p.elapsed_s:,.0f}" if p.elapsed_s > 0 else "0"
            bar.update(
                bars[p.step],
                description=p.step,
                completed=p.done,
                total=p.total,
                failed=p.failed,
                rows=f"{p.rows:,}",
                rate=rate,
            )

        return RunExecutor(ws, address=address, on_progress=update, settings=settings).execute(run_id)


def _planning(p: RunProgress) -> str:
    read = f", {p.rows:,} rows read" if p.rows else ""
    return f"{p.step}: reading its input{read}"


def _plain_progress(show: bool) -> Any:
    """Without a terminal (a log, CI): one line per step when it starts planning, when its tasks start and when they
    end."""
    seen: dict[str, int] = {}

    def update(p: RunProgress) -> None:
        if not show:
            return
        if p.planning:
            if p.step not in seen:
                seen[p.step] = -1
                err_console.print(f"step {p.step}: reading its input")
            return
        state = 0 if p.done < p.total else 1
        if seen.get(p.step, -1) >= state:
            return
        seen[p.step] = state
        if p.total == 0:
            err_console.print(f"step {p.step}: nothing to score")
        elif state == 0:
            err_console.print(f"step {p.step}: {p.total} tasks")
        else:
            err_console.print(
                f"step {p.step}: {p.done} tasks done, {p.failed} failed, {p.rows:,} rows in {p.elapsed_s:.1f} s"
            )

    return update


def _detach(ctx: typer.Context, ws: Workspace, run: Run, address: str | None) -> None:
    """Execute the run in a process of its own that outlives this command."""
    home = ctx.obj.get("home") if isinstance(ctx.obj, dict) else None
    command = [sys.executable, "-m", "modelport"]
    if home is not None:
        command += ["--home", str(home)]
    command += ["runs", "execute", run.id]
    if address:
        command += ["--address", address]
    log_dir = ws.cache_dir.parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / f"run-{run.id}.log", "ab") as log:
        subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)


def summary(run: Run) -> None:
    pairs = {
        "run": run.id,
        "pipeline": f"{run.pipeline}:{run.pipeline_version}",
        "status": run.status,
        "experiment": run.experiment or None,
        "parameters": ", ".join(f"{k}={v}" for k, v in run.parameters.items()) or None,
        "engine": run.engine + (f" ({run.workers} workers)" if run.workers else ""),
        "trigger": run.trigger,
        "created": when(run.created_at),
        "duration": None if run.duration_s is None else f"{run.duration_s:.1f} s",
        "tasks": ", ".join(f"{n} {s}" for s, n in run.counts().items()) or "none",
        "rows": f"{sum(t.rows_in or 0 for t in run.tasks):,} in, {sum(t.rows_out or 0 for t in run.tasks):,} out",
        "outputs": run.output_url,
        "error": run.error,
    }
    fields({k: v for k, v in pairs.items() if v is not None})


def task_table(run: Run, only_failed: bool = False) -> None:
    tasks = [t for t in run.tasks if t.status == "failed"] if only_failed else list(run.tasks)
    if not tasks:
        return
    table(
        ["step", "task", "status", "model", "rows in", "rows out", "attempts", "seconds", "error"],
        [
            (
                t.step,
                t.key,
                t.status,
                t.model,
                t.rows_in,
                t.rows_out,
                t.attempts,
                None if t.duration_s is None else f"{t.duration_s:.2f}",
                (t.error or "").splitlines()[0] if t.error else None,
            )
            for t in tasks
        ],
    )
