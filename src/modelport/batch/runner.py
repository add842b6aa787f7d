"""Executing a run: plan each step's tasks, send them to the engine, retry what fails, record everything.

The process that executes a run claims it (``queued`` -> ``running``), so two executors never run it twice. Steps
run in the file's order; a step starts once the steps it depends on completed, and is skipped when one of them
failed. A score step's tasks are its partitions (one per value of its partition columns) or, unpartitioned, its
input files; the models they name are resolved to exact versions and verified here, once, before any task starts.
A task that fails with a fault (a lost worker, an I/O error) is tried again up to the step's ``retries``; one that
fails on its data or model (a missing model, a missing column) fails at once, alone: the others' outputs stay.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import fsspec

from ..errors import ConflictError, InvalidInputError, ModelportError, NotFoundError
from ..registry import Workspace
from ..registry.tables import utcnow
from ..settings import BatchSettings
from . import datasets, spool
from .engines import Engine, EnginePool, create_engine
from .pipeline import Pipeline, ScoreStep, ScriptStep, Step, dependencies
from .records import Run
from .runs import HEARTBEAT_EVERY_S, RunRegistry
from .tasks import ModelBinding, ScoreSpec, ScriptSpec, TaskResult, TaskSpec

logger = logging.getLogger(__name__)

FLUSH_EVERY_S = 0.5
MAX_CHUNK = 32
_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")


@dataclass(frozen=True)
class Progress:
    """What a run has done so far in its current step. While ``planning``, the step is reading and cutting its
    input before its tasks start: ``rows`` is how many it has read so far, ``total`` is 0 and ``elapsed_s`` counts
    from the start of planning; then from the first task on, ``rows`` counts the rows scored."""

    run_id: str
    step: str
    done: int
    total: int
    failed: int
    rows: int
    elapsed_s: float
    planning: bool = False


ProgressCallback = Callable[[Progress], None]


@dataclass
class _Planned:
    key: str
    row: dict[str, Any]  # what the task's record starts with
    work: ScoreSpec | ScriptSpec | None  # None: failed while planning (``error``)
    error: str | None = None


def safe_name(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("_") or "_"


class RunExecutor:
    """Executes queued runs of a workspace. ``address`` is the Ray cluster's for runs on the ray engine (default:
    ``BatchSettings.ray_address``); a run that names no worker count gets ``BatchSettings.workers``. Each run starts
    and stops its own engine, unless ``engines`` keeps them between runs (``modelport server``)."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        on_progress: ProgressCallback | None = None,
        address: str | None = None,
        poll_s: float = FLUSH_EVERY_S,
        settings: BatchSettings | None = None,
        engines: EnginePool | None = None,
    ) -> None:
        self.workspace = workspace
        self.runs = RunRegistry(workspace)
        self.on_progress = on_progress
        self.settings = settings or BatchSettings()
        self.address = address if address is not None else self.settings.ray_address
        self.poll_s = poll_s
        self.engines = engines

    def execute(self, run_id: str) -> Run:
        run = self.runs.get(run_id)
        if not self.runs.claim(run.id):
            raise ConflictError(f"run {run.id} is {self.runs.get(run.id).status}, not queued: nothing to execute")
        alive = threading.Event()
        beats = threading.Thread(target=self._beat, args=(run.id, alive), name=f"heartbeat-{run.id}", daemon=True)
        beats.start()
        try:
            with old_objects_frozen():
                status, error = self._execute(self.runs.get(run.id))
        except ModelportError as exc:
            status, error = "failed", exc.message
        except BaseException as exc:
            self.runs.finish(run.id, "failed", f"internal error: {type(exc).__name__}: {exc}")
            raise
        finally:
            alive.set()
            beats.join()
        self.runs.finish(run.id, status, error)
        return self.runs.get(run.id)

    def _beat(self, run_id: str, done: threading.Event) -> None:
        """Tell the workspace this run's executor is alive, every few seconds, whatever the run is busy with."""
        while not done.wait(HEARTBEAT_EVERY_S):
            try:
                self.runs.heartbeat(run_id)
            except Exception as exc:  # the database away for a moment: the next beat may reach it
                logger.warning("cannot record the heartbeat of run %s: %s", run_id, exc)

    # -- the run ------------------------------------------------------------------------------------------------

    def _execute(self, run: Run) -> tuple[str, str | None]:
        version = self.runs.pipelines.get(f"{run.pipeline}:{run.pipeline_version}")
        context = self.runs.context(run.id)
        cwd = context.get("cwd")
        outputs = {s.name: self._output_dir(run, s, cwd) for s in version.pipeline.steps}
        pipeline = version.pipeline.bind(run.parameters, outputs, run.id)
        code_dir = self.runs.pipelines.materialize(version) if version.files else None
        engine: Engine | None = None
        step_ok: dict[str, bool] = {}
        try:
            for step in pipeline.order():
                blocked = [d for d in sorted(dependencies(step)) if not step_ok.get(d, False)]
                existing = [t for t in run.tasks if t.step == step.name]
                if blocked:
                    self._skip(run, step, existing, blocked)
                    step_ok[step.name] = False
                    continue
                if existing and all(t.status == "completed" for t in existing):
                    step_ok[step.name] = True
                    continue
                if engine is None:  # started before planning, so its workers start while the run reads its input
                    engine = self._engine(run)
                step_ok[step.name] = self._step(
                    run, pipeline, step, outputs[step.name], cwd, code_dir, context, existing, engine
                )
                if self.runs.cancel_requested(run.id):
                    break
        finally:
            if engine is not None and self.engines is not None:
                self.engines.release(engine)
            elif engine is not None:
                engine.close(cancel=True)
        if self.runs.cancel_requested(run.id):
            self._cancel_rest(run.id)
            return "canceled", "canceled on request"
        failed = [name for name, ok in step_ok.items() if not ok]
        if failed:
            tasks = self.runs.get(run.id).tasks
            bad = [t for t in tasks if t.status == "failed"]
            first = next((t for t in bad if t.error), None)
            detail = f"; first error ({first.step}/{first.key}): {(first.error or '').splitlines()[0]}" if first else ""
            return "failed", f"{len(bad)} of {len(tasks)} tasks failed in step(s) {', '.join(failed)}{detail}"
        return "completed", None

    def _step(
        self,
        run: Run,
        pipeline: Pipeline,
        step: Step,
        out_dir: str,
        cwd: str | None,
        code_dir: Path | None,
        context: dict[str, Any],
        existing: Sequence[Any],
        engine: Engine,
    ) -> bool:
        """Plan the step's tasks and run them: all of them, or on a retry (``existing``: its tasks recorded) those
        that did not complete, with the ids they have. Whether every task completed."""
        try:
            planned = self._plan(run, pipeline, step, out_dir, cwd, code_dir, context)
            missing: set[str] = set()
            if existing:
                ids = {t.key: t.id for t in existing}
                todo = {t.key for t in existing if t.status != "completed"}
                planned = [p for p in planned if p.key in todo]
                missing = todo - {p.key for p in planned}
                self.runs.update_tasks(
                    [(ids[k], {"status": "failed", "error": "its data is no longer in the input"}) for k in missing]
                    + [(ids[p.key], {k: p.row[k] for k in ("model", "output") if k in p.row}) for p in planned]
                )
            else:
                ids = self.runs.add_tasks(run.id, step.name, [p.row for p in planned])
            retries = int(context.get("retries", _int(step.retries, "retries", step.name, minimum=0)))
            ok = self._run_tasks(run, step, planned, ids, engine, retries) and not missing
            if isinstance(step, ScoreStep):  # every attempt has ended: what killed ones left half-written goes
                datasets.discard_partials(out_dir)
            return ok
        finally:
            if isinstance(step, ScoreStep) and step.partition_by:  # a large input cut while planning
                spool.remove(_spool(run, step))

    def _engine(self, run: Run) -> Engine:
        workers = run.workers or self.settings.workers
        if self.engines is not None:
            return self.engines.acquire(run.engine, workers, address=self.address)
        return create_engine(run.engine, workers, address=self.address, cache_size=self.settings.model_cache_size)

    def _output_dir(self, run: Run, step: Step, cwd: str | None) -> str:
        if isinstance(step, ScoreStep) and step.output.url and "${" not in step.output.url:
            return datasets.join(datasets.absolute(step.output.url, cwd), run.id, step.name)
        return datasets.join(run.output_url, "outputs", step.name)

    def _skip(self, run: Run, step: Step, existing: Sequence[Any], blocked: Sequence[str]) -> None:
        reason = f"skipped: step(s) {', '.join(blocked)} did not complete"
        if existing:
            self.runs.update_tasks([(t.id, {"status": "skipped", "error": reason}) for t in existing])
        else:
            self.runs.add_tasks(run.id, step.name, [{"key": "-", "status": "skipped", "error": reason}])

    def _cancel_rest(self, run_id: str) -> None:
        tasks = self.runs.get(run_id).tasks
        self.runs.update_tasks(
            [(t.id, {"status": "canceled", "error": "canceled on request"}) for t in tasks if t.status == "pending"]
        )

    # -- planning -----------------------------------------------------------------------------------------------

    def _plan(
        self,
        run: Run,
        pipeline: Pipeline,
        step: Step,
        out_dir: str,
        cwd: str | None,
        code_dir: Path | None,
        context: dict[str, Any],
    ) -> list[_Planned]:
        if isinstance(step, ScriptStep):
            return [self._plan_script(run, step, out_dir, code_dir)]
        return self._plan_score(run, step, out_dir, cwd, context)

    def _plan_script(self, run: Run, step: ScriptStep, out_dir: str, code_dir: Path | None) -> _Planned:
        assert code_dir is not None
        folder = code_dir / (step.source_directory or ".")
        _make_folder(out_dir)
        timeout = None if step.timeout_s is None else float(step.timeout_s)
        work = ScriptSpec(
            script=str((folder / step.script).resolve()),
            args=tuple(str(a) for a in step.args),
            cwd=str(folder.resolve()),
            env={
                "MODELPORT_RUN_ID": run.id,
                "MODELPORT_STEP": step.name,
                "MODELPORT_OUTPUT": out_dir,
                "MODELPORT_STORE_URL": self.workspace.store_url,
            },
            timeout_s=timeout,
        )
        return _Planned("script", {"key": "script", "output": out_dir}, work)

    def _plan_score(
        self, run: Run, step: ScoreStep, out_dir: str, cwd: str | None, context: dict[str, Any]
    ) -> list[_Planned]:
        mini_batch = _int(step.mini_batch_size, "mini_batch_size", step.name, minimum=1)
        planning = self._planning(run, step)
        planning(0)
        steps = context.setdefault("steps", {})
        recorded = steps.get(step.name)
        if recorded is None:
            url = datasets.absolute(step.input, cwd)
            # no file yet is nothing to score for a step of new files, or after a step (that may have written none)
            empty_ok = step.new_files_only or bool(dependencies(step))
            files, fmt, root = datasets.resolve_files(url, step.format, allow_empty=empty_ok)
            if step.new_files_only:
                found, files = len(files), self.runs.take_new_inputs(run.id, step.name, files)
                logger.info("step %s: %d of the %d input files are new", step.name, len(files), found)
            steps[step.name] = {"files": files, "format": fmt, "root": root}
            self.runs.set_context(run.id, context)
        else:
            files, fmt, root = recorded["files"], recorded["format"], recorded["root"]
        if not files:  # nothing to do; a step after this one finds its output folder, empty
            _make_folder(out_dir)
            return []
        try:
            try:
                return self._plan_files(run, step, out_dir, files, fmt, root, mini_batch, planning)
            except FileNotFoundError as exc:
                gone = exc.filename or str(exc)
                raise NotFoundError(f"step {step.name!r}: its input file {gone} is gone") from exc
        except BaseException:
            if recorded is None and step.new_files_only:  # no task was planned: the files go back for a later run
                self.runs.give_back_inputs(run.id, step.name)
                del steps[step.name]
                self.runs.set_context(run.id, context)
            raise

    def _plan_files(
        self,
        run: Run,
        step: ScoreStep,
        out_dir: str,
        files: Sequence[str],
        fmt: str,
        root: str,
        mini_batch: int,
        planning: Callable[[int], None],
    ) -> list[_Planned]:
        """The tasks of a score step over these input files."""
        # csv or parquet: as set, or as the output name's extension says, or as the input is
        out_format = step.output.format or step.output.named_format or fmt
        partitions: list[tuple[str, dict[str, Any], Any, tuple[str, ...]]] = []
        parts: dict[str, tuple[str, tuple[int, ...]]] = {}  # split_rows: a part's output name and where it lies
        spooled: dict[str, tuple[spool.Blob, ...]] = {}  # a large input cut: where a partition's rows lie
        dtypes: dict[str, Any] = {}
        above = self.settings.stream_above_mb
        stream_bytes = None if math.isinf(above) else int(above * 2**20)
        if step.partition_by:
            partitions, spooled, dtypes = self._partitions(run, step, files, fmt, root, stream_bytes, planning)
        else:
            split = None if step.split_rows is None else _int(step.split_rows, "split_rows", step.name, minimum=1)
            for path in files:
                key = path[len(root) :].lstrip("/") if path.startswith(root) else path.rsplit("/", 1)[-1]
                if split is None:
                    partitions.append((key, {}, None, (path,)))
                    continue
                for number, cut in enumerate(datasets.parts_of(path, fmt, split)):
                    part = f"{key}/part-{number:05d}"
                    parts[part] = (f"{datasets.stem_of(key)}/part-{number:05d}.{out_format}", cut)
                    partitions.append((part, {}, None, (path,)))
        if step.output.name and not step.partition_by and len(partitions) > 1:
            raise InvalidInputError(
                f"step {step.name!r}: output name {step.output.name!r} would name {len(partitions)} files the same; "
                "leave it out (each input file's name is kept) or partition the step"
            )
        refs = {key: step.model.format(**partition) for key, partition, _, _ in partitions}
        bindings = self._bind_models(step, refs)
        planned = []
        named: dict[str, str] = {}  # output name -> the task writing it
        for key, partition, frame, inputs in partitions:
            if step.output.name:
                name = step.output.name.format(**{k: safe_name(str(v)) for k, v in partition.items()})
            elif partition:
                name = "-".join(safe_name(str(v)) for v in partition.values()) + f".{out_format}"
            elif key in parts:
                name = parts[key][0]
            else:
                name = f"{datasets.stem_of(key)}.{out_format}"
            if name in named:
                raise InvalidInputError(
                    f"step {step.name!r}: {named[name]!r} and {key!r} would both be written as {name!r}; "
                    "rename one of them, or set the step's output name"
                )
            named[name] = key
            output = datasets.join(out_dir, name)
            binding, error = bindings[key]
            row = {
                "key": key,
                "partition": partition,
                "inputs": list(inputs),
                "model": binding.version.ref if binding else refs[key],
                "output": output,
            }
            if binding is None:
                planned.append(_Planned(key, row, None, error))
                continue
            work = ScoreSpec(
                model=binding,
                features=step.features,
                keep=step.keep,
                prediction_column=step.prediction_column,
                labels=step.labels,
                mini_batch_size=mini_batch,
                output_url=output,
                output_format=out_format,
                data=frame,
                inputs=inputs or tuple(files),
                input_format=fmt,
                input_root=root,
                partition=partition,
                dtypes=dtypes,
                stream_bytes=stream_bytes,
                piece_rows=self.settings.stream_piece_rows,
                part=parts[key][1] if key in parts else None,
                spooled=spooled.get(key, ()),
            )
            planned.append(_Planned(key, row, work))
        return planned

    def _partitions(
        self,
        run: Run,
        step: ScoreStep,
        files: Sequence[str],
        fmt: str,
        root: str,
        stream_bytes: int | None,
        planning: Callable[[int], None],
    ) -> tuple[
        list[tuple[str, dict[str, Any], Any, tuple[str, ...]]], dict[str, tuple[spool.Blob, ...]], dict[str, Any]
    ]:
        """A partitioned step's partitions, with their rows; of an input larger than ``stream_bytes``, cut a piece at
        a time into files, with where their rows lie instead (``spool.cut``). And the dtypes of its text columns.
        ``planning`` hears how many rows have been read, piece by piece where the input is cut in pieces."""
        needed = list(dict.fromkeys([*step.partition_by, *(step.features or ()), *(step.keep or ())]))
        groups: list[tuple[tuple[Any, ...], Any]]
        if stream_bytes is not None and datasets.data_size(files, fmt) > stream_bytes:
            folder = _spool(run, step)
            piece_rows = self.settings.stream_piece_rows
            done = spool.cut(files, fmt, root, step.partition_by, needed, piece_rows, folder, on_piece=planning)
            parts, pieces = len(done.partitions), done.pieces
            logger.info("step %s: %d rows cut into %d partitions, %d pieces", step.name, done.rows, parts, pieces)
            groups, dtypes = list(done.partitions), done.dtypes
        else:
            data = datasets.read_files(files, fmt, root, columns=needed)
            planning(len(data))
            groups, dtypes = datasets.partition_rows(data, step.partition_by), datasets.text_dtypes(data)
        partitions: list[tuple[str, dict[str, Any], Any, tuple[str, ...]]] = []
        spooled: dict[str, tuple[spool.Blob, ...]] = {}
        for values, rows in groups:
            partition = {c: datasets.plain(v) for c, v in zip(step.partition_by, values, strict=True)}
            key = datasets.partition_key(partition)
            if isinstance(rows, tuple):  # where they lie
                spooled[key], rows = rows, None
            partitions.append((key, partition, rows, ()))
        return partitions, spooled, dtypes

    def _planning(self, run: Run, step: Step) -> Callable[[int], None]:
        """What tells the run's listener how planning the step goes: the rows read so far."""
        started = time.monotonic()

        def report(rows: int) -> None:
            if self.on_progress is not None:
                self.on_progress(Progress(run.id, step.name, 0, 0, 0, rows, time.monotonic() - started, planning=True))

        return report

    def _bind_models(
        self, step: ScoreStep, refs: Mapping[str, str]
    ) -> dict[str, tuple[ModelBinding | None, str | None]]:
        options = {} if step.method == "predict" else {"method": step.method}
        resolved: dict[str, tuple[ModelBinding | None, str | None]] = {}
        versions = self.workspace.models.get_many(sorted(set(refs.values())))  # one read for 1,000 models
        for ref, version in versions.items():
            try:
                if isinstance(version, ModelportError):
                    raise version
                model_dir, code_dir = self.workspace.models.materialize(version)
            except ModelportError as exc:
                resolved[ref] = (None, exc.message)
                continue
            resolved[ref] = (
                ModelBinding(version, str(model_dir), None if code_dir is None else str(code_dir), options),
                None,
            )
        return {key: resolved[ref] for key, ref in refs.items()}

    # -- running ------------------------------------------------------------------------------------------------

    def _run_tasks(
        self,
        run: Run,
        step: Step,
        planned: Sequence[_Planned],
        ids: Mapping[str, int],
        engine: Engine | None,
        retries: int,
    ) -> bool:
        started = time.monotonic()
        changes: list[tuple[int, dict[str, Any]]] = []
        logs: dict[int, str] = {}
        attempts = {ids[p.key]: 0 for p in planned}
        done = failed = rows = 0
        total = len(planned)
        queue: deque[TaskSpec] = deque()
        for p in planned:
            task_id = ids[p.key]
            if p.work is None:
                changes.append((task_id, _failed(p.error or "could not be planned", 1)))
                done += 1
                failed += 1
            else:
                queue.append(TaskSpec(task_id, step.name, p.key, 1, p.work))
        inflight: dict[Future[list[TaskResult]], list[TaskSpec]] = {}
        limit = 2 * engine.workers if engine is not None else 0
        last_flush = time.monotonic()
        canceled = False

        heard: dict[int, int] = {}

        def report() -> None:
            if self.on_progress is not None:
                shown = rows + sum(heard.get(s.task_id, 0) for chunk in inflight.values() for s in chunk)
                self.on_progress(Progress(run.id, step.name, done, total, failed, shown, time.monotonic() - started))

        report()
        while queue or inflight:
            if not canceled and time.monotonic() - last_flush >= self.poll_s and self.runs.cancel_requested(run.id):
                canceled = True
                queue.clear()
            while engine is not None and queue and len(inflight) < limit and not canceled:
                chunk = [queue.popleft() for _ in range(min(len(queue), _chunk_size(len(queue), engine.workers)))]
                for spec in chunk:
                    attempts[spec.task_id] = spec.attempt
                    changes.append(
                        (spec.task_id, {"status": "running", "attempts": spec.attempt, "started_at": utcnow()})
                    )
                inflight[engine.submit(chunk)] = chunk
            finished, _ = wait(list(inflight), timeout=self.poll_s, return_when=FIRST_COMPLETED)
            if engine is not None:  # heard every poll, listened to or not, so that the workers' words never pile up
                heard = engine.progress()  # the rows of large inputs so far, piece by piece
            for future in finished:
                for spec, result in zip(inflight.pop(future), future.result(), strict=True):
                    logs[spec.task_id] = logs.get(spec.task_id, "") + result.log
                    if result.ok:
                        done += 1
                        rows += result.rows_out or 0
                        changes.append((spec.task_id, _completed(result, spec.attempt)))
                        self._write_log(run, spec, logs.pop(spec.task_id), changes)
                    elif result.retryable and spec.attempt <= retries and not canceled:
                        logger.info("task %s/%s failed (%s); trying again", step.name, spec.key, result.error)
                        logs[spec.task_id] += f"attempt {spec.attempt} failed: {result.error}\n"
                        queue.append(replace(spec, attempt=spec.attempt + 1))
                    else:
                        done += 1
                        failed += 1
                        error = result.error or "failed"
                        changes.append((spec.task_id, _failed(error, spec.attempt, result.duration_s)))
                        self._write_log(run, spec, logs.pop(spec.task_id), changes)
            if time.monotonic() - last_flush >= self.poll_s:
                self.runs.update_tasks(changes)
                changes = []
                last_flush = time.monotonic()
                report()
        self.runs.update_tasks(changes)
        report()
        return failed == 0 and not canceled

    def _write_log(self, run: Run, spec: TaskSpec, text: str, changes: list[tuple[int, dict[str, Any]]]) -> None:
        url = datasets.join(run.output_url, "logs", spec.step, safe_name(spec.key) + ".log")
        try:
            datasets.write_bytes(url, text.encode(), sync=False)  # a log need not outlive a crash: no fsync
        except OSError as exc:
            logger.warning("cannot write the log of task %s/%s to %s: %s", spec.step, spec.key, url, exc)
            return
        changes.append((spec.task_id, {"log": url}))


_frozen_lock = threading.Lock()
_frozen_runs = 0
_freezing = False  # whether the runs froze the objects (not when something else had already frozen some)


@contextlib.contextmanager
def old_objects_frozen() -> Iterator[None]:
    """While runs execute, the garbage collector leaves alone the objects that existed before the first of them
    (``gc.freeze``): planning and collecting a thousand tasks allocate enough to set off full collections, and each
    walked every object the process holds (pandas, scikit-learn, SQLAlchemy, the workspace): about 5% of a warm run.
    They are handed back to the collector (``gc.unfreeze``) when the last run executing in this process ends. Only
    the first of overlapping runs freezes, so that a run never freezes what another one is still making (its
    garbage would stay until every run ended); a process that had frozen objects of its own before (a server about
    to fork) is left as it is."""
    global _frozen_runs, _freezing
    with _frozen_lock:
        if _frozen_runs == 0:
            _freezing = gc.get_freeze_count() == 0
            if _freezing:
                gc.freeze()
        _frozen_runs += 1
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen_runs -= 1
            if _frozen_runs == 0 and _freezing:
                gc.unfreeze()


def _chunk_size(queued: int, workers: int) -> int:
    """Tasks sent to a worker in one call: enough that small tasks don't each pay a round trip and a disk flush,
    few enough that every worker gets a share (about four chunks per worker) and progress shows."""
    return max(1, min(MAX_CHUNK, queued // (4 * workers)))


def _completed(result: TaskResult, attempt: int) -> dict[str, Any]:
    return {
        "status": "completed",
        "rows_in": result.rows_in,
        "rows_out": result.rows_out,
        "output": result.output,
        "attempts": attempt,
        "duration_s": result.duration_s,
        "error": None,
        "ended_at": utcnow(),
    }


def _failed(error: str, attempt: int, duration: float | None = None) -> dict[str, Any]:
    return {"status": "failed", "error": error, "attempts": attempt, "duration_s": duration, "ended_at": utcnow()}


def _make_folder(url: str) -> None:
    fs, path = fsspec.core.url_to_fs(url)
    fs.makedirs(path, exist_ok=True)


def _spool(run: Run, step: Step) -> str:
    """Where a large partitioned input of the step is cut into its partitions (``spool.cut``)."""
    return datasets.join(run.output_url, "spool", step.name)


def _int(value: Any, what: str, step: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInputError(f"step {step!r}: {what} must be a whole number, not {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise InvalidInputError(f"step {step!r}: {what} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise InvalidInputError(f"step {step!r}: {what} must be at least {minimum}, not {number}")
    return number
