"""``modelport serve``: serve model versions as a REST scoring service; ``modelport score``: call one."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from ..codecs.json import dumps, loads
from ..errors import InvalidInputError
from ..serving import ServingSettings
from ._output import open_workspace, parse_pairs, print_json, read_input, workspace_home

if TYPE_CHECKING:
    from ..registry import ModelCatalog, Workspace

logger = logging.getLogger(__name__)


def _enter_environment(workspace: Workspace, ref: str) -> None:
    """Serve inside the environment's virtualenv: build it (first time only), then run this same command with its
    Python. Inside it, ``MODELPORT_ACTIVE_ENV`` says we are there already."""
    from ..registry.materialize import materialize

    env = workspace.environments.get(ref)
    if os.environ.get("MODELPORT_ACTIVE_ENV") == env.ref:
        return
    python = materialize(env, workspace.cache_dir, say=lambda text: print(f"==> {text}", file=sys.stderr))
    os.environ["MODELPORT_ACTIVE_ENV"] = env.ref
    print(f"==> serving inside environment {env.ref} ({python})", file=sys.stderr, flush=True)
    workspace.close()
    os.execv(python, [str(python), "-m", "modelport", *sys.argv[1:]])


def serve(
    ctx: typer.Context,
    models: Annotated[list[str], typer.Argument(help="Model versions to serve: NAME, NAME:VERSION or NAME@ALIAS.")],
    entry_script: Annotated[
        Path | None, typer.Option(help="Score with this Azure ML style script instead of the registered one.")
    ] = None,
    source_dir: Annotated[Path | None, typer.Option(help="The entry script's source folder.")] = None,
    env: Annotated[
        str | None, typer.Option(help="Serve inside this environment's virtualenv (built on first use).")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 5001); 0 picks a free one and prints it.")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes sharing the port (default 1); crashed ones are replaced.")
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="Scoring timeout in seconds (default 60).")] = None,
    batching: Annotated[
        bool | None,
        typer.Option(
            "--batching/--no-batching",
            help="Score concurrent requests for a no-code model together (default on).",
            show_default=False,
        ),
    ] = None,
    max_batch_size: Annotated[
        int | None, typer.Option(help="Most rows scored in one batch (default 64; a model's own option wins).")
    ] = None,
    max_latency_ms: Annotated[
        float | None,
        typer.Option(help="How long a batch that is not full may wait for more requests (default 0: not at all)."),
    ] = None,
    option: Annotated[
        list[str] | None, typer.Option("--option", "-o", help="Runtime option KEY=VALUE for every model.")
    ] = None,
) -> None:
    """Serve model versions as a REST scoring service until interrupted (Ctrl-C or SIGTERM drain in-flight
    requests first)."""
    from ..serving import logs
    from ..web.server import ScoringServer

    overrides: dict[str, Any] = {
        k: v
        for k, v in {
            "host": host,
            "port": port,
            "workers": workers,
            "scoring_timeout_s": timeout,
            "batching": batching,
            "max_batch_size": max_batch_size,
            "max_latency_ms": max_latency_ms,
        }.items()
        if v is not None
    }
    try:
        settings = ServingSettings(**overrides)
    except ValidationError as exc:  # one line: which setting, and what it must be
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInputError(f"invalid serving settings: {problems}") from exc
    debug = bool(ctx.obj and ctx.obj.get("debug"))
    logs.configure(logging.DEBUG if debug else logging.INFO)
    workspace: Workspace | ModelCatalog
    if env is not None:
        workspace = open_workspace(ctx)
        try:
            _enter_environment(workspace, env)  # returns inside it (else it execs into it, or fails)
        except BaseException:
            workspace.close()
            raise
    else:  # models only: read straight from a SQLite workspace, without SQLAlchemy (see registry.catalog)
        from ..registry.catalog import ModelCatalog

        workspace = ModelCatalog.open(workspace_home(ctx)) or open_workspace(ctx)
    try:
        server = ScoringServer(
            workspace,
            models,
            settings,
            entry_script=entry_script,
            source_directory=source_dir,
            options=parse_pairs(option, "option", typed=True),
        )
        first = server.service.models[0]
        sample = dumps(first.record.sample_input).decode() if first.record.sample_input is not None else ""
        data = f"'{sample}'" if sample and len(sample) <= 300 and "'" not in sample else "@input.json"
        url = server.url
        console = sys.__stderr__ or sys.stderr  # stderr itself: stdout may be turned into log lines
        console.write(
            f"modelport is serving {', '.join(m.record.ref for m in server.service.models)} at {url}\n"
            f"  score:   curl -s -X POST {url}{server.score_path} -H 'Content-Type: application/json' -d {data}\n"
            f"  swagger: {url}/swagger.json   health: {url}/health/ready   metrics: {url}/metrics\n"
        )
        console.flush()
        logger.info("listening", extra={"url": url, "models": [m.record.ref for m in server.service.models]})
        code = server.run()
    finally:
        workspace.close()
    if code:
        raise typer.Exit(code)


def score(
    url: Annotated[str, typer.Argument(help="The service, e.g. http://127.0.0.1:5001 (or its /score URL).")],
    input_path: Annotated[str, typer.Option("--input", "-i", help="JSON input file, or - for standard input.")] = "-",
    model: Annotated[str | None, typer.Option(help="Model name, when the service serves several.")] = None,
    key: Annotated[
        str | None, typer.Option(help="Key sent as Authorization: Bearer KEY.", envvar="MODELPORT_KEY")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Compact one-line JSON.")] = False,
) -> None:
    """Send JSON input to a running scoring service and print its answer."""
    from ..client import ScoringClient

    raw = read_input(input_path)
    loads(raw, what="input")  # fail here, clearly, rather than as a 400 from the service
    with ScoringClient(url, key=key) as client:
        result = client.score(raw, model=model)
    print_json(result, indent=not json)
