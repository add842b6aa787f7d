"""The background half of the control-plane server: ticks the scheduler and executes queued runs.

Two threads: one ticks the ``Scheduler`` every ``tick_s`` seconds; the other claims queued runs (every ``poll_s``,
or at once when ``wake()`` says one was just queued) and executes at most ``concurrent_runs`` of them at a time, each
in a thread of its own (the run's tasks go to its engine: a local process pool or Ray). A run another process
claimed first is skipped. The engines outlive the runs (``EnginePool``): the next run finds the workers started
and the models loaded, until they have been idle ``BatchSettings.keep_workers_s``. ``stop()`` stops ticking and
claiming, gives the runs in progress ``grace_s`` seconds to finish, then asks them to cancel (their running tasks
finish, the rest are canceled: ``runs retry`` resumes them), and stops the engines.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from ..errors import ConflictError, InvalidInputError
from ..registry import Workspace
from ..settings import BatchSettings
from .engines import EnginePool
from .runner import RunExecutor
from .runs import RunRegistry
from .schedules import Scheduler

logger = logging.getLogger(__name__)


class BatchWorker:
    def __init__(
        self,
        workspace: Workspace,
        *,
        tick_s: float = 5.0,
        concurrent_runs: int = 1,
        poll_s: float = 2.0,
        schedules: bool = True,
        settings: BatchSettings | None = None,
    ) -> None:
        if concurrent_runs < 1:
            raise InvalidInputError(f"concurrent_runs must be at least 1, not {concurrent_runs}")
        self.workspace = workspace
        self.tick_s = tick_s
        self.poll_s = poll_s
        self.concurrent_runs = concurrent_runs
        self.scheduler = Scheduler(workspace) if schedules else None
        self.runs = RunRegistry(workspace)
        self.settings = settings or BatchSettings()
        self.engines = EnginePool(self.settings.keep_workers_s, cache_size=self.settings.model_cache_size)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._active: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=concurrent_runs, thread_name_prefix="modelport-run")
        self._threads: list[threading.Thread] = []

    @property
    def active(self) -> list[str]:
        """The runs this worker is executing now."""
        with self._lock:
            return [run_id for run_id, future in self._active.items() if not future.done()]

    def start(self) -> BatchWorker:
        loops = [("modelport-dispatch", self._dispatch_loop)]
        if self.scheduler is not None:
            loops.insert(0, ("modelport-scheduler", self._schedule_loop))
        for name, target in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def wake(self) -> None:
        """Look for queued runs now rather than at the next poll."""
        self._wake.set()

    def stop(self, grace_s: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=max(self.tick_s, self.poll_s) + 60)
        with self._lock:
            futures = dict(self._active)
        _, running = wait(futures.values(), timeout=grace_s)
        for run_id, future in futures.items():
            if future in running:
                logger.warning("stopping: asking run %s to cancel (modelport runs retry %s resumes it)", run_id, run_id)
                with contextlib.suppress(ConflictError):  # it finished meanwhile
                    self.runs.cancel(run_id)
        self._pool.shutdown(wait=True)
        self.engines.close()

    # -- the loops ----------------------------------------------------------------------------------------------

    def _schedule_loop(self) -> None:
        assert self.scheduler is not None
        while not self._stop.is_set():
            try:
                if self.scheduler.tick():
                    self.wake()
                for run_id in self.runs.fail_stale():
                    logger.warning("run %s failed: its executor stopped sending heartbeats", run_id)
            except Exception:  # a database that is away for a moment must not end the loop
                logger.exception("the scheduler's tick failed; trying again in %.0f s", self.tick_s)
            self._stop.wait(self.tick_s)

    def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._dispatch()
                self.engines.sweep()  # the workers of engines idle too long
            except Exception:
                logger.exception("looking for queued runs failed; trying again in %.0f s", self.poll_s)
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _dispatch(self) -> None:
        with self._lock:
            self._active = {k: f for k, f in self._active.items() if not f.done()}
            free = self.concurrent_runs - len(self._active)
        if free <= 0:
            return
        for run_id in self.runs.queued():
            if self._stop.is_set() or free <= 0:
                return
            with self._lock:
                if run_id in self._active:
                    continue
                future = self._pool.submit(self._execute, run_id)
                self._active[run_id] = future
            future.add_done_callback(lambda _: self.wake())  # a slot is free: look for the next queued run
            free -= 1

    def _execute(self, run_id: str) -> None:
        try:
            run = RunExecutor(self.workspace, settings=self.settings, engines=self.engines).execute(run_id)
            logger.info("run %s %s", run.id, run.status)
        except ConflictError:  # another process claimed it first
            logger.debug("run %s was claimed elsewhere", run_id)
        except Exception:
            logger.exception("executing run %s failed", run_id)
