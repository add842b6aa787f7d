"""Adaptive batching: concurrent requests for one model scored in one ``infer`` call, each caller getting exactly its
own rows back.

A request's payload is prepared (decoded and checked) on its own first, so a bad request fails alone, before it can
share a batch. Prepared inputs wait in a bounded queue; the queue is drained as soon as the model is free, taking up
to ``max_batch_size`` rows; ``max_latency_ms`` above 0 lets a batch that is not full wait up to that long for more
rows. Under light load a request is scored at once, alone; under heavy load requests pile up while the previous
batch is scored, and the next batch takes them all: the batch size adapts to the load with no tuning (the same
policy as Triton's dynamic batcher with no queue delay).

Batches whose recent scoring time is under ``inline_below_ms`` are scored on the event loop itself: on one core a
hop to a thread and back costs more than such a call. Slower ones, and the first batches (before their time is
known), run on the prediction threads, bounded by the scoring timeout. If a batch fails, its requests are scored
again one by one, so that only the one at fault gets the error; a model whose output is not one row per input row is
not batched again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from ..codecs import batch as batches
from ..errors import ScoringTimeoutError
from ..runtimes import Runtime

logger = logging.getLogger(__name__)

EWMA_WEIGHT = 0.2  # of the newest batch's time in the running estimate


@dataclass(frozen=True)
class BatchPolicy:
    """How one model's requests are batched."""

    max_batch_size: int = 64
    max_latency_ms: float = 0.0
    inline_below_ms: float = 5.0
    timeout_s: float = 60.0


class _Item:
    __slots__ = ("deadline", "enqueued", "future", "prepared", "rows")

    def __init__(self, prepared: Any, rows: int, future: asyncio.Future[Any], now: float, timeout_s: float) -> None:
        self.prepared = prepared
        self.rows = rows
        self.future = future
        self.enqueued = now
        self.deadline = now + timeout_s


Observer = Callable[[int, list[float]], None]  # (rows in the batch, seconds each request waited in the queue)


class Batcher:
    """The batching queue of one loaded model. ``submit`` is called from the event loop that serves requests."""

    def __init__(
        self, runtime: Runtime, policy: BatchPolicy, executor: Executor, observe: Observer | None = None
    ) -> None:
        self.runtime = runtime
        self.policy = policy
        self.executor = executor
        self.observe = observe
        self._queue: deque[_Item] = deque()
        self._queued_rows = 0
        self._waiting = 0  # queued plus being scored
        self._scheduled = False  # a dispatch is due on the loop
        self._busy = False  # a batch is being scored on a thread
        self._timer: asyncio.TimerHandle | None = None
        self._seconds: float | None = None  # running estimate of one batch's scoring time
        self.splittable = True

    @property
    def waiting(self) -> int:
        return self._waiting

    async def submit(self, prepared: Any) -> Any:
        """Score ``prepared`` (one request's input, as the runtime's ``prepare`` made it) with whatever else is queued;
        returns this request's part of the output. The caller bounds how many wait (``InferenceService``)."""
        loop = asyncio.get_running_loop()
        count = batches.rows(prepared)
        now = time.perf_counter()
        item = _Item(prepared, 1 if count is None else count, loop.create_future(), now, self.policy.timeout_s)
        self._queue.append(item)
        self._queued_rows += item.rows
        self._waiting += 1
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._dispatch)
        try:
            return await item.future
        finally:
            self._waiting -= 1

    # -- on the event loop ----------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        self._scheduled = False
        if self._busy or not self._queue:
            return  # a batch on a thread dispatches again when it is done
        if self.policy.max_latency_ms > 0 and self._queued_rows < self.policy.max_batch_size:
            wait = self._queue[0].enqueued + self.policy.max_latency_ms / 1000 - time.perf_counter()
            if wait > 0:
                if self._timer is None:
                    self._timer = asyncio.get_running_loop().call_later(wait, self._on_timer)
                return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, size = self._take()
        if not batch:
            self._again()
            return
        fast = self._seconds is not None and self._seconds * 1000 < self.policy.inline_below_ms
        if fast and size <= self.policy.max_batch_size:
            self._deliver(batch, self._score(batch))
            self._again()
            return
        self._busy = True
        asyncio.get_running_loop().create_task(self._score_on_thread(batch))

    def _on_timer(self) -> None:
        self._timer = None
        self._dispatch()

    def _again(self) -> None:
        if self._queue and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._dispatch)

    def _take(self) -> tuple[list[_Item], int]:
        """Up to ``max_batch_size`` rows from the head of the queue (at least one request, however large), and their
        number; requests already given up on are dropped, and ones past their deadline fail with a timeout."""
        batch: list[_Item] = []
        size = 0
        now = time.perf_counter()
        limit = self.policy.max_batch_size if self.splittable else 1
        while self._queue:
            item = self._queue[0]
            if batch and (size + item.rows > limit or not self.splittable):
                break
            self._queue.popleft()
            self._queued_rows -= item.rows
            if item.future.done():
                continue
            if now > item.deadline:
                item.future.set_exception(self._timeout())
                continue
            batch.append(item)
            size += item.rows
        return batch, size

    async def _score_on_thread(self, batch: list[_Item]) -> None:
        loop = asyncio.get_running_loop()
        try:
            remaining = max(0.0, min(item.deadline for item in batch) - time.perf_counter())
            try:
                outcomes = await asyncio.wait_for(loop.run_in_executor(self.executor, self._score, batch), remaining)
            except TimeoutError:
                outcomes = [(False, self._timeout())] * len(batch)
            except Exception as exc:  # the executor is shut down (the server is stopping)
                outcomes = [(False, exc)] * len(batch)
            self._deliver(batch, outcomes)
        finally:
            self._busy = False
            self._again()

    def _deliver(self, batch: list[_Item], outcomes: list[tuple[bool, Any]]) -> None:
        for item, (ok, value) in zip(batch, outcomes, strict=True):
            if item.future.done():
                continue
            if ok:
                item.future.set_result(value)
            else:
                item.future.set_exception(value)

    def _timeout(self) -> ScoringTimeoutError:
        context = self.runtime.context
        return ScoringTimeoutError(
            f"scoring {context.name}:{context.version} took longer than {self.policy.timeout_s:g} s"
        )

    # -- on the event loop or a prediction thread -----------------------------------------------------------------

    def _score(self, batch: list[_Item]) -> list[tuple[bool, Any]]:
        """(True, output part) or (False, exception) for each request of ``batch``."""
        started = time.perf_counter()
        outcomes = self._score_together(batch) if len(batch) > 1 else [self._score_one(batch[0])]
        seconds = time.perf_counter() - started
        self._seconds = seconds if self._seconds is None else self._seconds + EWMA_WEIGHT * (seconds - self._seconds)
        if self.observe is not None:
            self.observe(sum(item.rows for item in batch), [started - item.enqueued for item in batch])
        return outcomes

    def _score_one(self, item: _Item) -> tuple[bool, Any]:
        try:
            return True, self.runtime.infer(item.prepared)
        except Exception as exc:
            return False, exc

    def _score_together(self, batch: list[_Item]) -> list[tuple[bool, Any]]:
        try:
            output = self.runtime.infer(batches.concat([item.prepared for item in batch]))
        except Exception:  # one request's rows may be at fault: score each alone, so only that one fails
            logger.debug("a batch of %d requests failed; scoring them one by one", len(batch), exc_info=True)
            return [self._score_one(item) for item in batch]
        parts = batches.split(output, [item.rows for item in batch])
        if parts is None:
            context = self.runtime.context
            logger.warning(
                "%s:%s does not answer one row per input row; its requests are no longer batched",
                context.name,
                context.version,
            )
            self.splittable = False
            return [self._score_one(item) for item in batch]
        return [(True, part) for part in parts]
