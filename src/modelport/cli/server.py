"""``modelport server``: the workspace's control-plane API, with the scheduler and the run executor."""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from ..errors import InvalidInputError
from ..settings import ControlSettings
from ._output import open_workspace


def server(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8600); 0 picks a free one and prints it.")] = None,
    tick: Annotated[
        float | None, typer.Option(help="Seconds between looks for due schedule slots (default 5).")
    ] = None,
    concurrent_runs: Annotated[int | None, typer.Option(help="Runs executed at once (default 1).")] = None,
) -> None:
    """Serve the control-plane REST API (start published pipelines, follow runs), start scheduled runs and
    execute queued ones, until interrupted (SIGINT/SIGTERM let runs in progress finish first)."""
    from ..web.control_server import ControlServer

    overrides: dict[str, Any] = {
        k: v
        for k, v in {"host": host, "port": port, "tick_s": tick, "concurrent_runs": concurrent_runs}.items()
        if v is not None
    }
    try:
        settings = ControlSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInputError(f"invalid server settings: {problems}") from exc
    debug = bool(ctx.obj and ctx.obj.get("debug"))
    logging.getLogger("modelport").setLevel(logging.DEBUG if debug else logging.INFO)
    with open_workspace(ctx) as ws:
        control = ControlServer(ws, settings)
        sys.stderr.write(
            f"modelport server is listening at {control.url}\n"
            f"  health:  curl -s {control.url}/health\n"
            f"  start:   curl -s -X POST {control.url}/pipelines/NAME/runs -H 'Authorization: Bearer KEY' "
            f'-H \'Content-Type: application/json\' -d \'{{"ExperimentName": "x", "ParameterAssignments": {{}}}}\'\n'
            f"  schedules tick every {settings.tick_s:g} s; {settings.concurrent_runs} run(s) at a time\n"
        )
        sys.stderr.flush()
        code = control.run()
    if code:
        raise typer.Exit(code)
