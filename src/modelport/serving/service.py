"""The inference service: the model versions one server serves, their readiness, and the predict path.

No web framework here. A no-code model whose predict is vectorised is scored through its ``Batcher`` (concurrent
requests share a call; see ``batching``); scripts and the rest run on a thread pool, never on the event loop. Each
request waits at most ``scoring_timeout_s``, and at most ``max_waiting`` requests wait at once (more are refused as
busy, to be retried).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..codecs.signature import Signature
from ..errors import (
    InvalidInputError,
    ModelNotFoundError,
    NotFoundError,
    ScoringTimeoutError,
    UnavailableError,
)
from ..registry import ModelVersion
from ..registry.loading import ModelLoader
from ..runtimes import Runtime
from .batching import Batcher, BatchPolicy
from .metrics import ServiceMetrics
from .settings import ServingSettings

if TYPE_CHECKING:
    from ..registry import Workspace

logger = logging.getLogger(__name__)
T = TypeVar("T")
INLINE_PREPARE_BYTES = 256 * 1024  # larger request bodies are decoded into arrays on a thread, not on the loop


@dataclass
class ServedModel:
    """One loaded model version."""

    record: ModelVersion
    runtime: Runtime
    load_seconds: float
    signature: Signature = field(default_factory=Signature)
    batcher: Batcher | None = None

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def version(self) -> int:
        return self.record.version

    @property
    def ready(self) -> bool:
        return self.runtime.ready


class InferenceService:
    """Loads the model versions named by ``refs`` (``NAME``, ``NAME:VERSION``, ``NAME@ALIAS``) and scores them.

    The models are found in ``workspace``: a ``Workspace``, or straight in its ``ModelRegistry`` or read-only
    ``ModelCatalog`` (what ``modelport serve`` passes for a SQLite workspace, to do without SQLAlchemy)."""

    def __init__(
        self,
        workspace: Workspace | ModelLoader,
        refs: Sequence[str],
        settings: ServingSettings | None = None,
        *,
        entry_script: str | Path | None = None,
        source_directory: str | Path | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        if not refs:
            raise InvalidInputError("name at least one model to serve")
        if entry_script is not None and len(refs) > 1:
            raise InvalidInputError("--entry-script applies to one model; register scripts with each model instead")
        self.workspace = workspace
        self.source: ModelLoader = workspace if isinstance(workspace, ModelLoader) else workspace.models
        self.refs = list(refs)
        self.settings = settings or ServingSettings()
        self.entry_script = entry_script
        self.source_directory = source_directory
        self.options = dict(options or {})
        self.models: list[ServedModel] = []
        self.load_error: str | None = None
        self.failed_ref: str | None = None
        self._loaded = threading.Event()
        self._executor = ThreadPoolExecutor(self.settings.threads, thread_name_prefix="modelport-predict")
        self._waiting = 0
        self.metrics = ServiceMetrics()

    # -- loading ------------------------------------------------------------------------------------------------

    def load(self) -> None:
        """Load every model (running script ``init()``s); the service is ready once all are loaded."""
        try:
            for ref in self.refs:
                record = self.source.get(ref)
                started = time.perf_counter()
                runtime = self.source.load(
                    record.ref, entry_script=self.entry_script, source_directory=self.source_directory, **self.options
                )
                seconds = time.perf_counter() - started
                batcher = self._batcher(runtime)
                self.models.append(ServedModel(record, runtime, seconds, runtime.describe(), batcher))
                logger.info(
                    "loaded %s (%s) in %.3f s",
                    record.ref,
                    record.framework,
                    seconds,
                    extra={"batching": asdict(batcher.policy) if batcher else None},
                )
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"  # for the log and the operator, not for clients
            self.failed_ref = ref
            raise
        finally:
            self._loaded.set()

    def _batcher(self, runtime: Runtime) -> Batcher | None:
        """The batching queue of a runtime that can be batched, with its own options over the server's settings."""
        own = runtime.serving_options
        if not runtime.batchable or not own.get("batching", self.settings.batching):
            return None
        policy = BatchPolicy(
            max_batch_size=own.get("max_batch_size", self.settings.max_batch_size),
            max_latency_ms=own.get("max_latency_ms", self.settings.max_latency_ms),
            inline_below_ms=self.settings.inline_below_ms,
            timeout_s=self.settings.scoring_timeout_s,
        )
        if policy.max_batch_size < 1 or policy.max_latency_ms < 0:
            raise InvalidInputError(
                f"{runtime.context.name}:{runtime.context.version}: max_batch_size must be at least 1 and "
                f"max_latency_ms at least 0, got {policy.max_batch_size} and {policy.max_latency_ms:g}"
            )
        observe = self.metrics.batch_observer(runtime.context.name, str(runtime.context.version))
        return Batcher(runtime, policy, self._executor, observe)

    def use_metrics(self, metrics: ServiceMetrics) -> None:
        """Record into ``metrics`` from now on (a worker of a pre-fork server switches to the shared ones)."""
        self.metrics = metrics
        for model in self.models:
            if model.batcher is not None:
                model.batcher.observe = metrics.batch_observer(model.name, str(model.version))
        metrics.loaded(self.ready, self.models)

    @property
    def ready(self) -> bool:
        return self._loaded.is_set() and self.load_error is None and all(m.ready for m in self.models)

    def check_ready(self) -> None:
        if self.load_error is not None:
            # what init() raised may hold paths or secrets: clients learn which model, the log says why
            raise UnavailableError(f"model {self.failed_ref} failed to load; the server log says why")
        if not self.ready:
            raise UnavailableError("the models are still loading; retry shortly", retry_after=1)

    # -- finding models -----------------------------------------------------------------------------------------

    def resolve(self, name: str | None = None, version: str | int | None = None) -> ServedModel:
        """The served model ``name`` (``version``), or the only one when ``name`` is None."""
        self.check_ready()
        if name is None:
            names = sorted({m.name for m in self.models})
            if len(names) > 1:
                choices = ", ".join(f"/models/{n}/score" for n in names)
                raise InvalidInputError(f"this server serves several models; score one of: {choices}")
            return self.models[0]
        candidates = [m for m in self.models if m.name == name]
        if not candidates:
            raise ModelNotFoundError(name, suggestions=sorted({m.name for m in self.models}))
        if version is None or version == "":
            return candidates[0]
        text = str(version)
        for model in candidates:
            if str(model.version) == text:
                return model
        served = [m.record.ref for m in candidates]
        if not text.isdigit():  # "no model named 'clf'" would be wrong: the model is served, the version is not
            raise NotFoundError(f"model {name!r} has no version {text!r}. Did you mean {', '.join(map(repr, served))}?")
        raise ModelNotFoundError(name, version=int(text), suggestions=served)

    # -- predicting ---------------------------------------------------------------------------------------------

    def _admit(self) -> None:
        if self._waiting >= self.settings.max_waiting:
            raise UnavailableError(
                f"the server is busy: {self._waiting} requests are already waiting; retry shortly", retry_after=1
            )

    async def call(self, model: ServedModel, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function`` (a blocking call into ``model``) on the prediction threads, bounded in time and in the
        number of callers waiting."""
        self._admit()
        self._waiting += 1
        try:
            loop = asyncio.get_running_loop()
            call = contextvars.copy_context().run  # the request id and model follow the call into the thread
            future = loop.run_in_executor(self._executor, lambda: call(function, *args, **kwargs))
            try:
                return await asyncio.wait_for(future, timeout=self.settings.scoring_timeout_s)
            except TimeoutError as exc:
                raise ScoringTimeoutError(
                    f"scoring {model.record.ref} took longer than {self.settings.scoring_timeout_s:g} s"
                ) from exc
        finally:
            self._waiting -= 1

    async def predict(self, model: ServedModel, payload: Any, size: int = 0) -> Any:
        """Score ``payload`` (decoded, of ``size`` bytes on the wire when known) with ``model``: through its batcher
        when it has one, prepared here, on the loop (a bad payload fails alone); a large payload is prepared and
        scored on a thread, a batch of its own."""
        batcher = model.batcher
        if batcher is None or size > INLINE_PREPARE_BYTES:
            return await self.call(model, model.runtime.predict, payload)
        self._admit()
        self._waiting += 1
        try:
            return await batcher.submit(model.runtime.prepare(payload))
        finally:
            self._waiting -= 1

    @property
    def waiting(self) -> int:
        return self._waiting

    def close(self) -> None:
        for model in self.models:
            try:
                model.runtime.unload()
            except Exception:  # unloading must not stop the others from unloading
                logger.exception("unloading %s failed", model.record.ref)
        self._executor.shutdown(wait=False, cancel_futures=True)
