"""Where tasks run: a pool of processes on this machine (``local``), or actors on a Ray cluster (``ray``).

An engine takes ``TaskSpec``s and hands back futures of ``TaskResult``s; each of its workers keeps a ``ModelCache``,
so a model is loaded once per worker. Nothing else differs between engines: both call ``tasks.execute``.
``EnginePool`` keeps engines between runs (``modelport server``), so the next run finds its workers started and
its models loaded.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import os
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError, MissingDependencyError, UnavailableError
from .tasks import DEFAULT_CACHE_SIZE, ModelCache, TaskResult, TaskSpec, execute_all

logger = logging.getLogger(__name__)

ENGINES = ("local", "ray")


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


class Engine(ABC):
    name: str
    # whether an EnginePool may keep it idle between runs: processes of this machine, yes; Ray actors hold CPUs of
    # a shared cluster (an idle one would keep other jobs, or a run with its own engine, waiting), so no
    keepable: bool = False

    def __init__(self, workers: int | None = None, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        if workers is not None and workers < 1:
            raise InvalidInputError(f"workers must be at least 1, not {workers}")
        self.workers = workers or default_workers()
        self.cache_size = cache_size
        self.healthy = True  # False once it cannot be trusted with another run (a Ray actor died)

    @abstractmethod
    def submit(self, specs: Sequence[TaskSpec]) -> Future[list[TaskResult]]:
        """Start tasks on one worker, in turn; the future's result is their outcomes (a lost worker fails them all,
        retryable). Sending several small tasks at once saves a round trip and a disk flush per task."""

    def progress(self) -> dict[int, int]:
        """Rows scored so far by the tasks still running, by task id, where the engine hears of them (the local
        engine, for inputs scored a piece at a time); empty where it does not (Ray: a task's rows come with it)."""
        return {}

    @abstractmethod
    def close(self, cancel: bool = False) -> None:
        """Stop the workers; with ``cancel``, tasks not started yet are dropped."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def create_engine(
    name: str, workers: int | None = None, address: str | None = None, cache_size: int = DEFAULT_CACHE_SIZE
) -> Engine:
    if name == "local":
        return LocalEngine(workers, cache_size=cache_size)
    if name == "ray":
        return RayEngine(workers, address=address, cache_size=cache_size)
    raise InvalidInputError(f"unknown engine {name!r}: expected one of {', '.join(ENGINES)}")


@dataclass
class _Kept:
    engine: Engine
    users: int = 0
    last_used: float = 0.0


class EnginePool:
    """Engines kept open between runs, one per (engine, workers, address), shared by the runs that use it at the
    same time (an engine's ``submit`` is thread-safe). An engine nobody has used for ``idle_s`` seconds is closed by
    ``sweep()``; one that turned unhealthy, or that is not ``keepable`` (Ray), is closed when its last run lets it
    go."""

    def __init__(self, idle_s: float, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self.idle_s = idle_s
        self.cache_size = cache_size
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, int | None, str | None], _Kept] = {}

    def acquire(self, name: str, workers: int | None = None, address: str | None = None) -> Engine:
        key = (name, workers, address)
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                kept = self._kept[key] = _Kept(
                    create_engine(name, workers, address=address, cache_size=self.cache_size)
                )
            kept.users += 1
            return kept.engine

    def release(self, engine: Engine) -> None:
        with self._lock:
            key = next((k for k, kept in self._kept.items() if kept.engine is engine), None)
            if key is None:
                return
            kept = self._kept[key]
            kept.users -= 1
            kept.last_used = time.monotonic()
            closing = kept.users == 0 and (not engine.healthy or not engine.keepable or self.idle_s == 0)
            if closing:
                del self._kept[key]
        if closing:
            engine.close(cancel=True)

    def sweep(self) -> int:
        """Close the engines idle for ``idle_s`` or more; returns how many."""
        now = time.monotonic()
        with self._lock:
            idle = [k for k, kept in self._kept.items() if kept.users == 0 and now - kept.last_used >= self.idle_s]
            closing = [self._kept.pop(k).engine for k in idle]
        for engine in closing:
            logger.info("stopping the idle %s engine's %d workers", engine.name, engine.workers)
            engine.close(cancel=True)
        return len(closing)

    def close(self) -> None:
        with self._lock:
            closing = [kept.engine for kept in self._kept.values()]
            self._kept.clear()
        for engine in closing:
            engine.close(cancel=True)


# -- local ------------------------------------------------------------------------------------------------------

_cache: ModelCache | None = None
_progress: Any = None  # the engine's queue of (task id, rows so far)


def _init_worker(cache_size: int, progress: Any = None) -> None:
    global _cache, _progress
    _cache = ModelCache(cache_size)
    _progress = progress
    if progress is not None:  # a word of progress not yet sent never holds up the worker's exit
        progress.cancel_join_thread()
    logging.getLogger().setLevel(logging.INFO)  # what a task's log keeps, set here once rather than per task
    # one thread per worker for BLAS and OpenMP: the pool is the parallelism
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")


def _run_in_worker(specs: Sequence[TaskSpec]) -> list[TaskResult]:
    assert _cache is not None
    return execute_all(specs, _cache, None if _progress is None else _report)


def _report(task_id: int, rows: int) -> None:
    _progress.put((task_id, rows))


def _warm() -> None:
    """Import what scoring needs, so a worker started while the run plans is ready when its first task comes."""
    for module in ("pandas", "sklearn.base"):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)


class LocalEngine(Engine):
    """A process pool (spawned, not forked: the parent holds database connections and threads). A worker that dies
    fails its task (retryable) and the pool is started again for the others."""

    name = "local"
    keepable = True

    def __init__(self, workers: int | None = None, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        super().__init__(workers, cache_size)
        self._lock = threading.Lock()
        # the rows so far of the tasks submitted and not settled, under a lock of their own: _settle runs on the
        # pool's thread, which close() waits for while it holds self._lock
        self._rows_lock = threading.Lock()
        self._rows: dict[int, int] = {}
        self._queue: Any = None
        self._closed = False
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # a queue of (task id, rows so far) per pool: a worker killed while it held the queue's lock leaves that
        # queue unusable, and a pool is started again only after one died
        self._queue = multiprocessing.get_context("spawn").Queue()
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.cache_size, self._queue),
        )
        for _ in range(self.workers):  # start the workers now, while the run plans
            pool.submit(_warm)
        return pool

    def submit(self, specs: Sequence[TaskSpec]) -> Future[list[TaskResult]]:
        outer: Future[list[TaskResult]] = Future()
        with self._lock:
            if self._closed:  # a pool started now would never be shut down
                outer.set_result(
                    [TaskResult(s.task_id, False, error="the engine was closed", retryable=False) for s in specs]
                )
                return outer
            with self._rows_lock:
                self._rows.update((spec.task_id, 0) for spec in specs)
            try:
                inner = self._pool.submit(_run_in_worker, specs)
            except BrokenProcessPool:
                self._pool = self._start()
                inner = self._pool.submit(_run_in_worker, specs)
            pool = self._pool
        inner.add_done_callback(lambda f: self._settle(outer, f, specs, pool))
        return outer

    def _settle(
        self,
        outer: Future[list[TaskResult]],
        inner: Future[list[TaskResult]],
        specs: Sequence[TaskSpec],
        pool: ProcessPoolExecutor,
    ) -> None:
        with self._rows_lock:
            for spec in specs:
                self._rows.pop(spec.task_id, None)
        if inner.cancelled():
            error, retryable = "canceled before it started", False
        elif (exc := inner.exception()) is None:
            outer.set_result(inner.result())
            return
        elif isinstance(exc, BrokenProcessPool):
            self.restart_if_broken(pool)
            error, retryable = "the worker process running this task died (killed, or out of memory)", True
        else:
            error, retryable = f"{type(exc).__name__}: {exc}", True
        outer.set_result([TaskResult(s.task_id, False, error=error, retryable=retryable) for s in specs])

    def restart_if_broken(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if pool is self._pool and not self._closed:
                logger.warning("a batch worker died; starting the pool again")
                self._pool = self._start()

    def progress(self) -> dict[int, int]:
        heard = []
        with contextlib.suppress(queue.Empty, OSError, ValueError):  # empty, or closed by close()
            while True:
                heard.append(self._queue.get_nowait())
        with self._rows_lock:
            for task_id, rows in heard:
                if task_id in self._rows:  # not a late word of a task that has settled since
                    self._rows[task_id] = rows
            return {task_id: rows for task_id, rows in self._rows.items() if rows}

    def close(self, cancel: bool = False) -> None:
        with self._lock:  # not held while the pool shuts down: its thread settles tasks, which takes the lock
            self._closed = True
            pool = self._pool
        pool.shutdown(wait=True, cancel_futures=cancel)
        self._queue.close()


# -- ray --------------------------------------------------------------------------------------------------------


class RayEngine(Engine):
    """Actors on a Ray cluster, each with its own model cache. ``address``: a cluster's address, ``auto`` for the
    one this machine belongs to, or None to start a local Ray when none is running. The workspace's files and the
    input data must be reachable from the cluster's nodes (on one machine they are)."""

    name = "ray"

    def __init__(
        self, workers: int | None = None, address: str | None = None, cache_size: int = DEFAULT_CACHE_SIZE
    ) -> None:
        super().__init__(workers, cache_size)
        try:
            import ray
        except ModuleNotFoundError as exc:
            raise MissingDependencyError("ray", "ray", "the ray engine") from exc
        self._ray: Any = ray
        self._started_here = False
        if not ray.is_initialized():
            try:
                ray.init(
                    address=address,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                    runtime_env={"env_vars": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}},
                )
            except ConnectionError as exc:
                raise UnavailableError(f"cannot reach the Ray cluster at {address!r}: {exc}") from exc
            self._started_here = True
        cpus = float(self._ray.cluster_resources().get("CPU", 0))
        if self.workers > cpus:  # an autoscaling cluster may grow; a fixed one leaves the extra actors pending
            logger.warning(
                "the run asks for %d Ray actors of one CPU each and the cluster has %g CPUs now: the rest wait for "
                "CPUs to free up or for the cluster to grow (ask for fewer with --workers)",
                self.workers,
                cpus,
            )
        worker: Any = self._ray.remote(num_cpus=1)(_RayWorker)
        self._actors: list[Any] = [worker.remote(cache_size) for _ in range(self.workers)]
        self._load = [0] * self.workers
        self._lock = threading.Lock()

    def submit(self, specs: Sequence[TaskSpec]) -> Future[list[TaskResult]]:
        with self._lock:
            index = min(range(len(self._actors)), key=self._load.__getitem__)
            self._load[index] += 1
        ref = self._actors[index].run.remote(list(specs))
        outer: Future[list[TaskResult]] = Future()

        def done(f: Future[Any]) -> None:
            with self._lock:
                self._load[index] -= 1
            exc = f.exception()
            if exc is None:
                outer.set_result(f.result())
            else:
                self.healthy = False  # an actor died, or the cluster went away: no further run on these actors
                error = f"{type(exc).__name__}: {exc}"
                outer.set_result([TaskResult(s.task_id, False, error=error, retryable=True) for s in specs])

        ref.future().add_done_callback(done)
        return outer

    def close(self, cancel: bool = False) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []
        if self._started_here:
            self._ray.shutdown()


class _RayWorker:
    def __init__(self, cache_size: int) -> None:
        self.cache = ModelCache(cache_size)
        logging.getLogger().setLevel(logging.INFO)

    def run(self, specs: list[TaskSpec]) -> list[TaskResult]:
        return execute_all(specs, self.cache)
