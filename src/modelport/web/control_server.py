"""Running the control-plane app on a socket, with the scheduler and the run executor beside it.

>>> from modelport import Workspace
>>> from modelport.web.control_server import ControlServer
>>> with ControlServer(Workspace(), port=0) as server:   # doctest: +SKIP
...     print(server.url)
http://127.0.0.1:40112
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from types import FrameType, TracebackType
from typing import Any

import uvicorn

from ..batch.worker import BatchWorker
from ..errors import ModelportError, UnavailableError
from ..registry import Workspace
from ..settings import ControlSettings
from .control import create_control_app
from .server import bind


class ControlServer:
    """The control-plane API on a socket, and a ``BatchWorker`` that ticks schedules and executes queued runs.
    ``run()`` serves in the foreground until SIGINT/SIGTERM; ``start()``/``stop()`` (or ``with``) in the background."""

    def __init__(
        self,
        workspace: Workspace,
        settings: ControlSettings | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
        self.settings = (settings or ControlSettings()).model_copy(update=overrides)
        self.workspace = workspace
        self.worker = BatchWorker(
            workspace,
            tick_s=self.settings.tick_s,
            poll_s=self.settings.poll_s,
            concurrent_runs=self.settings.concurrent_runs,
        )
        self.socket = bind(self.settings.host, self.settings.port)
        host_bound, port_bound = self.socket.getsockname()[:2]
        self.url = f"http://{f'[{host_bound}]' if ':' in host_bound else host_bound}:{port_bound}"
        config = uvicorn.Config(
            create_control_app(workspace, self.settings, on_queued=self.worker.wake),
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> ControlServer:
        """Serve from a background thread (uvicorn installs no signal handlers there); returns once it accepts
        connections."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self.socket]}, name="modelport-control", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            self.socket.close()
            raise UnavailableError("the control-plane server did not start")
        self.worker.start()
        return self

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM; then stop taking requests and runs, and let the runs in progress finish
        (for ``shutdown_grace_s``; then they are asked to cancel). A second signal cancels them at once."""
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {s: signal.getsignal(s) for s in signals}

        def on_signal(number: int, frame: FrameType | None) -> None:
            if self._stopping.is_set():  # the second one
                for run_id in self.worker.active:
                    with contextlib.suppress(ModelportError):
                        self.worker.runs.cancel(run_id)
            self._stopping.set()

        for number in signals:
            signal.signal(number, on_signal)
        try:
            self.start()
            while not self._stopping.wait(0.5):
                if self._thread is not None and not self._thread.is_alive():
                    return 1  # uvicorn stopped by itself: a fault it has logged
            return 0
        finally:
            self.stop()
            for number, handler in previous.items():
                signal.signal(number, handler)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.worker.stop(grace_s=self.settings.shutdown_grace_s)
        self.socket.close()

    def __enter__(self) -> ControlServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, **self.settings.model_dump(include={"tick_s", "concurrent_runs"})}
