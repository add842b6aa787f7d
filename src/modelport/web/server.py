"""Running the scoring app on a socket, from the CLI or from Python.

>>> from modelport import Workspace
>>> from modelport.web import ScoringServer
>>> with ScoringServer(Workspace(), ["faq@production"], port=0) as server:   # doctest: +SKIP
...     print(server.url)                                                      # served from a background thread
http://127.0.0.1:40111
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import uvicorn

from ..errors import InvalidInputError, UnavailableError
from ..serving import InferenceService, ServingSettings
from ..serving.metrics import ServiceMetrics, use_multiprocess, worker_gone
from .scoring import create_scoring_app
from .workers import FORK_SAFE, WorkerSupervisor

if TYPE_CHECKING:
    from ..registry import Workspace
    from ..registry.loading import ModelLoader


def bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket here, so that port 0 gets a free port from the system and we can say which."""
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


class ScoringServer:
    """Serve model versions of a workspace (or of its ``ModelRegistry`` or ``ModelCatalog``: see ``InferenceService``).
    The models load in the constructor (a model that cannot load raises there); ``run()`` serves in the foreground
    until SIGINT/SIGTERM, ``start()`` in a background thread."""

    def __init__(
        self,
        workspace: Workspace | ModelLoader,
        models: Sequence[str],
        settings: ServingSettings | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        entry_script: str | Path | None = None,
        source_directory: str | Path | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
        self.settings = (settings or ServingSettings()).model_copy(update=overrides)
        self.workspace = workspace
        self._service_args: dict[str, Any] = {
            "entry_script": entry_script,
            "source_directory": source_directory,
            "options": options,
        }
        self.service = InferenceService(workspace, models, self.settings, **self._service_args)
        self.service.load()  # here, in the parent: a model that cannot load stops the server before it listens
        self.socket = bind(self.settings.host, self.settings.port)
        host_bound, port_bound = self.socket.getsockname()[:2]
        self.url = f"http://{f'[{host_bound}]' if ':' in host_bound else host_bound}:{port_bound}"
        self._server = self._uvicorn(self.service)
        self._thread: threading.Thread | None = None

    @staticmethod
    def _uvicorn(service: InferenceService) -> uvicorn.Server:
        config = uvicorn.Config(
            create_scoring_app(service),
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=30,
            server_header=False,
            ws="none",  # no WebSocket routes: not importing the websockets package saves start-up and memory
        )
        return uvicorn.Server(config)

    @property
    def preloaded(self) -> bool:
        """Whether workers share the models loaded here (all are fork-safe) rather than loading their own."""
        return all(m.runtime.framework in FORK_SAFE for m in self.service.models)

    @property
    def score_path(self) -> str:
        names = {m.name for m in self.service.models}
        return "/score" if len(names) == 1 else f"/models/{self.service.models[0].name}/score"

    def run(self) -> int:
        """Serve in the foreground until SIGINT or SIGTERM, letting in-flight requests finish; with several
        workers, supervise them. Returns the exit code (non-zero when workers kept dying)."""
        try:
            if self.settings.workers == 1:
                self._server.run(sockets=[self.socket])
                return 0
            if not self.preloaded:
                self.service.close()  # each worker loads its own copy after the fork
            with tempfile.TemporaryDirectory(prefix="modelport-metrics-") as metrics_dir:  # the workers', added up
                supervisor = WorkerSupervisor(
                    self.settings.workers,
                    partial(self._serve_worker, metrics_dir),
                    on_exit=partial(worker_gone, metrics_dir),
                )
                return supervisor.run()
        finally:
            self.close()

    def _serve_worker(self, metrics_dir: str, number: int) -> None:
        """The body of one worker process, after the fork."""
        self.service.source.after_fork()  # the parent's database connections are not ours to use
        use_multiprocess(metrics_dir)
        service = self.service
        if not self.preloaded:
            service = InferenceService(self.workspace, self.service.refs, self.settings, **self._service_args)
            service.load()
        service.use_metrics(ServiceMetrics(metrics_dir))
        self._uvicorn(service).run(sockets=[self.socket])

    def start(self) -> ScoringServer:
        """Serve from a background thread; returns once the server accepts connections."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self.socket]}, name="modelport-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 6
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            raise UnavailableError("the scoring server did not start")
        return self

    def stop(self) -> None:
        """Stop a server started with ``start()``: in-flight requests finish first."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=60)
        self.close()

    def close(self) -> None:
        self.service.close()
        self.socket.close()

    def __enter__(self) -> ScoringServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
