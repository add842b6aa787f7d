"""``modelport serve``: serve model versions as a REST scoring service; ``modelport score``: call one."""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..codecs.json import dumps, loads
from ..errors import InvalidInputError
from ..serving import InferenceService, ServingSettings
from ._output import open_workspace, parse_pairs, print_json

logger = logging.getLogger(__name__)


def _bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket here, so that ``--port 0`` gets a port from the system and we can say which."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.listen(2048)
    return sock


def serve(
    ctx: typer.Context,
    models: Annotated[list[str], typer.Argument(help="Model versions to serve: NAME, NAME:VERSION or NAME@ALIAS.")],
    entry_script: Annotated[
        Path | None, typer.Option(help="Score with this Azure ML style script instead of the registered one.")
    ] = None,
    source_dir: Annotated[Path | None, typer.Option(help="The entry script's source folder.")] = None,
    env: Annotated[str | None, typer.Option(help="Environment the script needs (checked to exist).")] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 5001); 0 picks a free one and prints it.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default 1).")] = None,
    timeout: Annotated[float | None, typer.Option(help="Scoring timeout in seconds (default 60).")] = None,
    option: Annotated[
        list[str] | None, typer.Option("--option", "-o", help="Runtime option KEY=VALUE for every model.")
    ] = None,
) -> None:
    """Serve model versions as a REST scoring service until interrupted (Ctrl-C or SIGTERM drain in-flight
    requests first)."""
    import uvicorn

    from ..serving import logs
    from ..web import create_scoring_app

    overrides: dict[str, Any] = {
        k: v
        for k, v in {"host": host, "port": port, "workers": workers, "scoring_timeout_s": timeout}.items()
        if v is not None
    }
    try:
        settings = ServingSettings(**overrides)
    except ValueError as exc:
        raise InvalidInputError(f"invalid serving settings: {exc}") from exc
    if settings.workers > 1:
        raise InvalidInputError("--workers above 1 is not available yet; run one worker per port for now")
    debug = bool(ctx.obj and ctx.obj.get("debug"))
    logs.configure(logging.DEBUG if debug else logging.INFO)
    workspace = open_workspace(ctx)
    if env is not None:
        workspace.environments.get(env)
    service = InferenceService(
        workspace,
        models,
        settings,
        entry_script=entry_script,
        source_directory=source_dir,
        options=parse_pairs(option, "option", typed=True),
    )
    service.load()  # before listening: a model that cannot load stops the server with its reason
    sock = _bind(settings.host, settings.port)
    bound_host, bound_port = sock.getsockname()[:2]
    url = f"http://{bound_host if ':' not in bound_host else f'[{bound_host}]'}:{bound_port}"
    refs = ", ".join(m.record.ref for m in service.models)
    first = service.models[0]
    score_path = "/score" if len({m.name for m in service.models}) == 1 else f"/models/{first.name}/score"
    sample = dumps(first.record.sample_input).decode() if first.record.sample_input is not None else ""
    data = f"'{sample}'" if sample and len(sample) <= 300 and "'" not in sample else "@input.json"
    console = sys.__stderr__ or sys.stderr  # stderr itself: stdout may be turned into log lines
    console.write(
        f"modelport is serving {refs} at {url}\n"
        f"  score:   curl -s -X POST {url}{score_path} -H 'Content-Type: application/json' -d {data}\n"
        f"  swagger: {url}/swagger.json   health: {url}/health/ready   metrics: {url}/metrics\n"
    )
    console.flush()
    logger.info("listening", extra={"url": url, "models": [m.record.ref for m in service.models]})
    app = create_scoring_app(service)
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
        limit_concurrency=None,
        proxy_headers=False,
        server_header=False,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        service.close()
        workspace.close()
        sock.close()


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

    if input_path == "-":
        if sys.stdin.isatty():
            raise InvalidInputError("no input: pass --input FILE, or pipe JSON into --input -")
        raw = sys.stdin.buffer.read()
    else:
        try:
            raw = Path(input_path).read_bytes()
        except OSError as exc:
            raise InvalidInputError(f"cannot read the input file {input_path}: {exc.strerror or exc}") from exc
    loads(raw, what="input")  # fail here, clearly, rather than as a 400 from the service
    with ScoringClient(url, key=key) as client:
        result = client.score(raw, model=model)
    print_json(result, indent=not json)
