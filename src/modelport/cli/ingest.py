"""``modelport ingest``: sensor readings from MQTT and/or HTTP into fixed-window Parquet aggregates."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from ..errors import InvalidInputError
from ..settings import WorkspaceSettings
from ._output import print_json

if TYPE_CHECKING:
    from ..batch.ingest import Ingester, IngestSettings

logger = logging.getLogger(__name__)


def _settings(overrides: dict[str, Any]) -> IngestSettings:
    from ..batch.ingest import IngestSettings

    try:
        return IngestSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:  # one line: which setting, and what it must be
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        if any(e["loc"] == ("output",) and e["type"] == "missing" for e in exc.errors()):
            problems = "--output is required (or MODELPORT_INGEST_OUTPUT): where to write the windows"
        raise InvalidInputError(f"invalid ingest settings: {problems}") from exc


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise InvalidInputError(f"invalid --http {value!r}: expected HOST:PORT, e.g. 127.0.0.1:8001 (port 0: any)")
    return host.strip("[]") or "127.0.0.1", int(port)


def _describe(settings: IngestSettings, listening: list[str], replayed: int, reopened: int) -> str:
    from ..batch.ingest.settings import format_duration, hide_password

    read_back = (
        f"; {_count(replayed, 'reading')} in {_count(reopened, 'open window')} read back from the log"
        if replayed
        else ""
    )
    return (
        f"modelport ingest: {' and '.join(listening)} -> {hide_password(settings.output)}\n"
        f"  {format_duration(settings.window_s)} windows, {format_duration(settings.grace_s)} grace; "
        f"state {settings.state_dir}{read_back}"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _summary(settings: IngestSettings, ingester: Ingester) -> str:
    stats = ingester.stats
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(stats.rejected.items()))
    rejected = sum(stats.rejected.values())
    aside = f" ({reasons}; set aside in {settings.state_dir / 'rejected'})" if rejected else ""
    return (
        f"stopped: {stats.accepted} accepted, {stats.duplicates} duplicates, {rejected} rejected{aside}; "
        f"{_count(stats.windows_written, 'window')} written ({_count(stats.rows_written, 'row')}); "
        f"{_count(ingester.open_windows, 'window')} still open, kept in the log for the next start"
    )


def ingest(
    ctx: typer.Context,
    output: Annotated[
        str | None, typer.Option("--output", "-O", help="Where windows go: a folder or fsspec URL (s3://...).")
    ] = None,
    mqtt: Annotated[
        str | None, typer.Option("--mqtt", help="MQTT broker to subscribe to, e.g. mqtt://user:pass@host:1883.")
    ] = None,
    topic: Annotated[
        list[str] | None, typer.Option("--topic", "-t", help="Topic filter, QoS 1 (repeatable; default sensors/#).")
    ] = None,
    http: Annotated[
        str | None, typer.Option("--http", help="Also take POST /readings on HOST:PORT (port 0: any free one).")
    ] = None,
    window: Annotated[str | None, typer.Option("--window", "-w", help="Window length, e.g. 1m (default).")] = None,
    grace: Annotated[
        str | None, typer.Option(help="How long past its end a window still takes readings (default 30s).")
    ] = None,
    idle_close: Annotated[
        str | None, typer.Option(help="Close every open window after this long without readings (default never).")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="State folder: log, closed windows, rejected readings (default HOME/ingest)."),
    ] = None,
    client_id: Annotated[
        str | None, typer.Option(help="MQTT client id of the persistent session (default from the state folder).")
    ] = None,
    drain: Annotated[
        bool, typer.Option("--drain", help="On exit, write the windows still open too (later readings: late).")
    ] = False,
    require_key: Annotated[
        bool | None,
        typer.Option(
            "--require-key/--no-require-key",
            help="POST /readings needs Authorization: Bearer KEY (modelport keys create). Default: unless --http "
            "listens on a loopback address only.",
            show_default=False,
        ),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="JSON lines on stdout: started, then stopped.")] = False,
) -> None:
    """Aggregate sensor readings {TS, Device, Tag, Value} from MQTT and/or HTTP into fixed windows (mean, min, max,
    count per device and sensor), appended as Parquet under OUTPUT/date=YYYY-MM-DD/. Runs until Ctrl-C or
    SIGTERM; a restart loses no acknowledged reading and writes no window twice."""
    from ..batch.ingest import Ingester
    from ..batch.ingest.mqtt import MqttSource
    from ..batch.ingest.settings import hide_password
    from ..web.ingest import IngestServer

    host, port = _host_port(http) if http is not None else (None, None)
    home = ctx.obj.get("home") if isinstance(ctx.obj, dict) else None
    if state is None and "MODELPORT_INGEST_STATE_DIR" not in os.environ:
        state = Path(home or WorkspaceSettings().home) / "ingest"  # beside the workspace it belongs with
    settings = _settings(
        {
            "output": output,
            "mqtt_url": mqtt,
            "topics": topic or None,
            "http_host": host,
            "http_port": port,
            "window_s": window,
            "grace_s": grace,
            "idle_close_s": idle_close,
            "state_dir": state,
            "client_id": client_id,
            "http_require_key": require_key,
        }
    )
    if settings.mqtt_url is None and settings.http_host is None:
        raise InvalidInputError("nothing to listen to: give --mqtt URL and/or --http HOST:PORT")

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        ingester = Ingester(settings)
        replayed, reopened = ingester.stats.replayed, ingester.open_windows  # before new readings come
        server: IngestServer | None = None
        source: MqttSource | None = None
        stack = contextlib.ExitStack()  # the workspace whose keys guard HTTP, when they do
        try:
            listening = []
            if settings.mqtt_url is not None:
                client = settings.client_id or _default_client_id(settings.state_dir)
                source = MqttSource(
                    settings.mqtt_url,
                    settings.topics,
                    client,
                    lambda body, where: ingester.submit(body, where, sync=False).position,
                    sync=ingester.sync,  # one fsync per batch of messages
                )
                source.start()
                listening.append(f"{hide_password(settings.mqtt_url)} {' '.join(settings.topics)} (QoS 1)")
            if settings.http_host is not None:
                keys = None
                if settings.http_needs_key:
                    from ..registry.keys import ApiKeyRegistry
                    from ._output import open_workspace

                    workspace = stack.enter_context(open_workspace(ctx))
                    keys = ApiKeyRegistry(workspace.engine)
                server = IngestServer(
                    ingester, settings.http_host, settings.http_port, settings.max_body_bytes, keys=keys
                )
                server.start()
                guard = "needs a key: modelport keys create" if keys is not None else "no key needed: loopback only"
                if keys is None and settings.http_require_key is False:
                    guard = "no key needed: --no-require-key"
                listening.append(f"POST {server.url}/readings ({guard})")
            if json:
                print_json(
                    {
                        "event": "started",
                        "listening": listening,
                        "http": server.url if server else None,
                        "output": hide_password(settings.output),
                        "state": str(settings.state_dir),
                        "open_windows": reopened,
                        "replayed": replayed,
                    },
                    indent=False,
                )
            else:
                print(_describe(settings, listening, replayed, reopened), flush=True)
            tick = min(1.0, (settings.idle_close_s or 4.0) / 4)
            while not stop.wait(tick):
                try:
                    ingester.tick()
                except Exception:
                    logger.exception("writing closed windows failed; trying again")
        finally:
            if source is not None:
                source.stop()
            if server is not None:
                server.stop()
            stack.close()
            ingester.close(drain=drain)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if json:
        print_json(
            {"event": "stopped", "open_windows": ingester.open_windows, **ingester.stats.to_json()}, indent=False
        )
    else:
        print(_summary(settings, ingester), flush=True)
    sys.stdout.flush()


def _default_client_id(state_dir: Path) -> str:
    """One persistent session per state folder: the same folder after a restart finds its queued messages."""
    return "modelport-ingest-" + hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
