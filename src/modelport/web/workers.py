"""Several worker processes sharing one listening socket (pre-fork, like gunicorn's model).

The parent loads the models first, so a model that cannot load stops the server before it listens. Models whose
runtime is safe to fork (scikit-learn, LightGBM, XGBoost: no threads of their own until they predict) stay loaded
and the workers share their pages; the others (ONNX Runtime starts a thread pool when it loads, an entry script's
``init()`` may open anything) are loaded again in each worker after the fork. SIGTERM or SIGINT to the parent is
passed on to the workers, which stop accepting, finish what is in flight and exit; a worker that dies otherwise is
replaced, unless workers keep dying (a crash loop), which stops the server.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import time
from collections.abc import Callable
from types import FrameType

logger = logging.getLogger(__name__)

FORK_SAFE = frozenset({"sklearn", "lightgbm", "xgboost"})
CRASH_WINDOW_S = 30.0
MAX_CRASHES = 5


class WorkerSupervisor:
    """Forks ``count`` workers, each running ``serve_in_child`` (which must not return until the worker stops),
    and keeps that many running until told to stop."""

    def __init__(
        self, count: int, serve_in_child: Callable[[int], None], on_exit: Callable[[int], None] | None = None
    ) -> None:
        self.count = count
        self.serve_in_child = serve_in_child
        self.on_exit = on_exit  # called with the pid of each worker that has exited
        self.workers: dict[int, int] = {}  # pid -> worker number
        self.stopping = False
        self.crashes: list[float] = []

    def _spawn(self, number: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                self.serve_in_child(number)
            except BaseException:  # a worker reports and exits; the parent decides what follows
                logger.exception("worker %d failed", number)
                code = 1
            finally:
                logging.shutdown()  # os._exit skips the exit handlers that would write out buffered log lines
                os._exit(code)
        self.workers[pid] = number
        logger.info("started worker %d (pid %d)", number, pid)

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stopping:
            logger.info("stopping %d workers (signal %d); in-flight requests finish first", len(self.workers), signum)
        self.stopping = True
        for pid in list(self.workers):
            with contextlib.suppress(ProcessLookupError):  # it has just exited
                os.kill(pid, signal.SIGTERM)

    def run(self) -> int:
        """Run until stopped; return the exit code for the server (0, or 1 after a crash loop)."""
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGTERM, signal.SIGINT)}
        # what the parent holds now (the models loaded before the fork) goes to the collector's permanent generation:
        # its collections would otherwise write to every object's header and unshare the pages the workers share
        gc.collect()
        gc.freeze()
        try:
            for number in range(self.count):
                self._spawn(number)
            while self.workers:
                try:
                    pid, status = os.wait()
                except ChildProcessError:
                    break
                except InterruptedError:
                    continue
                number = self.workers.pop(pid, -1)
                if self.on_exit is not None:
                    self.on_exit(pid)
                if self.stopping or number < 0:
                    continue
                code = os.waitstatus_to_exitcode(status)
                logger.warning("worker %d (pid %d) exited with %d; starting a new one", number, pid, code)
                now = time.monotonic()
                self.crashes = [t for t in self.crashes if now - t < CRASH_WINDOW_S] + [now]
                if len(self.crashes) > MAX_CRASHES:
                    logger.error(
                        "workers keep dying (%d in %.0f s): stopping the server", len(self.crashes), CRASH_WINDOW_S
                    )
                    self._stop(signal.SIGTERM, None)
                    self._reap()
                    return 1
                self._spawn(number)
            return 0
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _reap(self) -> None:
        while self.workers:
            try:
                pid, _ = os.wait()
            except ChildProcessError:
                return
            self.workers.pop(pid, None)
