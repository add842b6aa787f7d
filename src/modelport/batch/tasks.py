"""One task of a run, as a worker executes it: score a partition (or a file) with its model, or run a script.

A task arrives as a ``TaskSpec``, a plain picklable value that holds everything the worker needs: the exact model
version and its verified local files, the rows to score (or the files to read them from again on a retry), where to
write. A worker keeps the models it loaded (``ModelCache``), so each is loaded once per worker however many tasks
use it. The worker never touches the workspace database; the process that runs the run records what it returns.
Both engines call ``execute`` here, which is why their outputs are the same bit for bit.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import subprocess
import sys
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError, ModelportError
from ..registry.loading import model_context
from ..registry.records import ModelVersion
from ..runtimes import Runtime, create_runtime
from . import datasets, spool

logger = logging.getLogger(__name__)

SCRIPT_TAIL_LINES = 20


@dataclass(frozen=True)
class ModelBinding:
    """A model version resolved and verified by the run: the worker loads it from these local folders."""

    version: ModelVersion
    model_dir: str
    code_dir: str | None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int, tuple[tuple[str, Any], ...]]:
        return (self.version.name, self.version.version, tuple(sorted(self.options.items())))


@dataclass(frozen=True)
class ScoreSpec:
    model: ModelBinding
    features: tuple[str, ...] | None
    keep: tuple[str, ...] | None
    prediction_column: str
    labels: Mapping[Any, Any] | None
    mini_batch_size: int
    output_url: str
    output_format: str
    data: Any = None  # the task's rows, when the run has them in memory
    inputs: tuple[str, ...] = ()  # else: read these files (format and root below) and select the partition
    input_format: str = "csv"
    input_root: str = ""
    partition: Mapping[str, Any] = field(default_factory=dict)
    dtypes: Mapping[str, Any] = field(default_factory=dict)  # of the input's text columns (datasets.text_dtypes)
    stream_bytes: int | None = None  # input files of more bytes are read a piece at a time (None: always whole)
    piece_rows: int = 100_000  # rows a piece, rounded up to whole mini-batches (BatchSettings.stream_piece_rows)
    part: tuple[int, ...] | None = None  # a part of the file (the step's split_rows): datasets.parts_of
    spooled: tuple[tuple[str, int, int], ...] = ()  # a large input cut by the run: where the rows lie (spool.cut)


@dataclass(frozen=True)
class ScriptSpec:
    script: str
    args: tuple[str, ...]
    cwd: str
    env: Mapping[str, str]
    timeout_s: float | None


@dataclass(frozen=True)
class TaskSpec:
    task_id: int
    step: str
    key: str
    attempt: int
    work: ScoreSpec | ScriptSpec


@dataclass(frozen=True)
class TaskResult:
    task_id: int
    ok: bool
    rows_in: int | None = None
    rows_out: int | None = None
    output: str | None = None
    error: str | None = None
    retryable: bool = True
    log: str = ""
    duration_s: float = 0.0


DEFAULT_CACHE_SIZE = 1024  # BatchSettings.model_cache_size


class ModelCache:
    """The models a worker has loaded, least recently used dropped past ``size``."""

    def __init__(self, size: int = DEFAULT_CACHE_SIZE) -> None:
        self.size = size
        self._runtimes: OrderedDict[Any, Runtime] = OrderedDict()
        self.loads = 0

    def get(self, binding: ModelBinding) -> Runtime:
        runtime = self._runtimes.get(binding.key)
        if runtime is not None:
            self._runtimes.move_to_end(binding.key)
            return runtime
        code_dir = None if binding.code_dir is None else Path(binding.code_dir)
        context = model_context(binding.version, Path(binding.model_dir), code_dir, options=binding.options)
        runtime = create_runtime(context)
        runtime.load()
        self.loads += 1
        self._runtimes[binding.key] = runtime
        while len(self._runtimes) > self.size:
            _, dropped = self._runtimes.popitem(last=False)
            dropped.unload()
        return runtime


Reporter = Callable[[int, int], None]  # (task id, rows scored so far): a large input's progress, piece by piece


def execute_all(specs: Sequence[TaskSpec], cache: ModelCache, report: Reporter | None = None) -> list[TaskResult]:
    """Run several tasks in turn (a chunk sent to a worker in one call), then flush the disks once: a task's output
    is on the disk before its result says it completed, at the cost of one sync per chunk rather than per file."""
    results = [execute(spec, cache, sync=False, report=report) for spec in specs]
    if any(r.ok and r.output and "://" not in r.output for r in results):
        os.sync()
    return results


def execute(spec: TaskSpec, cache: ModelCache, sync: bool = True, report: Reporter | None = None) -> TaskResult:
    """Run one task; never raises: a failure is a result with the error and the task's log. ``sync=False`` leaves
    flushing its output to the disk to the caller (``execute_all``); ``report`` hears of each piece of a large
    input scored."""
    started = time.perf_counter()
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    if previous_level == logging.NOTSET or previous_level > logging.INFO:  # a worker has set it once for all
        root.setLevel(logging.INFO)
    print(f"task {spec.step}/{spec.key}, attempt {spec.attempt}, pid {os.getpid()}", file=log)
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            if isinstance(spec.work, ScoreSpec):
                progress = None if report is None else functools.partial(report, spec.task_id)
                rows_in, rows_out, output = _score(spec.work, cache, log, sync, progress)
            else:
                rows_in, rows_out, output = None, None, _script(spec.work, log)
    except _ScriptFailed as exc:
        return _failure(spec, str(exc), True, log, started)
    except ModelportError as exc:
        log.write(f"error: {exc.message}\n")
        # deterministic: the same model and rows fail the same way again (a missing model, a bad column...)
        return _failure(spec, exc.message, False, log, started)
    except Exception as exc:
        log.write(traceback.format_exc())
        return _failure(spec, f"{type(exc).__name__}: {exc}", True, log, started)
    finally:
        root.removeHandler(handler)
        if root.level != previous_level:
            root.setLevel(previous_level)
    duration = time.perf_counter() - started
    print(f"done in {duration:.3f} s", file=log)
    return TaskResult(
        spec.task_id, True, rows_in=rows_in, rows_out=rows_out, output=output, log=log.getvalue(), duration_s=duration
    )


def _failure(spec: TaskSpec, error: str, retryable: bool, log: io.StringIO, started: float) -> TaskResult:
    return TaskResult(
        spec.task_id,
        False,
        error=error,
        retryable=retryable,
        log=log.getvalue(),
        duration_s=time.perf_counter() - started,
    )


# -- score ------------------------------------------------------------------------------------------------------


def _score(
    work: ScoreSpec, cache: ModelCache, log: io.StringIO, sync: bool, progress: Callable[[int], None] | None = None
) -> tuple[int, int, str]:
    """Works on the partition's columns as arrays, not on a DataFrame: most of a small task's time went to pandas
    indexing, copying and writing before. Input files of more than ``work.stream_bytes`` are scored a piece at a
    time (``_score_pieces``), in memory that does not grow with them."""
    if work.data is None and not work.spooled and work.stream_bytes is not None:
        size = datasets.data_size(work.inputs, work.input_format, work.part)
        if size > work.stream_bytes:
            try:
                return _score_pieces(work, cache, log, sync, size, progress)
            except _Unstreamable as exc:
                print(f"reading the input whole instead: {exc}", file=log)
    columns, dtypes = _rows(work)
    rows = _length(columns)
    cut = f", read from the {len(work.spooled)} piece(s) the run cut its input in" if work.spooled else ""
    runtime = _runtime(work, cache, log, f"{rows} rows{cut}")
    out = _scored(work, runtime, columns, dtypes)
    datasets.write_columns(out, work.output_url, work.output_format, sync=sync, dtypes=dtypes)
    return rows, rows, work.output_url


def _runtime(work: ScoreSpec, cache: ModelCache, log: io.StringIO, what: str) -> Runtime:
    loads = cache.loads
    runtime = cache.get(work.model)
    how = "loaded" if cache.loads > loads else "already loaded in this worker"
    print(f"model {work.model.version.ref} ({how}): {what}", file=log)
    return runtime


def _length(columns: Mapping[str, Any]) -> int:
    return len(next(iter(columns.values()))) if columns else 0


def _scored(work: ScoreSpec, runtime: Runtime, columns: Mapping[str, Any], dtypes: Mapping[str, Any]) -> dict[str, Any]:
    """The output columns of these rows: those kept, then the predictions, one ``predict`` a mini-batch."""
    rows = _length(columns)
    features = _features(work, runtime, columns)
    _require(columns, work.keep or (), "column(s) {} to keep")
    chunks = [
        _predict(runtime, columns, slice(start, min(start + work.mini_batch_size, rows)), features, work, dtypes)
        for start in range(0, rows, work.mini_batch_size)
    ]
    out = {c: columns[c] for c in work.keep} if work.keep is not None else dict(columns)
    out.update(_joined(chunks, work.prediction_column))
    return out


MAX_PASSES = 4


class _Unstreamable(Exception):
    """The input cannot be scored a piece at a time with the same output as whole: it is read whole."""


class _Widen(Exception):
    """Columns whose type changed between pieces: read again, the input's parsed as (``read_as``) and the
    predictions cast to (``cast``) the type the whole input would have given them."""

    def __init__(self, read_as: Mapping[str, Any], cast: Mapping[str, Any]) -> None:
        super().__init__(read_as, cast)
        self.read_as, self.cast = dict(read_as), dict(cast)


def _score_pieces(
    work: ScoreSpec,
    cache: ModelCache,
    log: io.StringIO,
    sync: bool,
    size: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int, str]:
    """Score a large input a piece at a time into an output put in place whole at the end: the same output as
    ``_score`` gives reading it whole (the same mini-batches, the same bytes of CSV), in memory that holds a piece.

    A CSV's column types are inferred per piece, as pandas infers them per block when it reads a file whole and
    then widens them; a model may answer different types for different mini-batches, which a whole read joins into
    one. Where a column's type changes, the output so far is thrown away and the input read again, that column
    cast from the start to the type the whole read would have given it. What pieces cannot give the same output of
    (dates in a CSV output, whose text pandas chooses for the whole column; files with different columns) is read
    whole."""
    runtime = _runtime(work, cache, log, f"{size / 2**20:.0f} MB of input, read a piece at a time")
    piece = -(-work.piece_rows // work.mini_batch_size) * work.mini_batch_size
    read_as: dict[str, Any] = {}
    cast: dict[str, Any] = {}
    scanned = False
    for _ in range(MAX_PASSES):
        try:
            rows, pieces = _score_pass(work, runtime, piece, read_as, cast, sync, progress)
        except _Widen as exc:
            if exc.read_as and not scanned:  # the input's types, all at once: a later piece may change them again
                exc.read_as.update(_input_types(work, piece))
                scanned = True
            read_as.update(exc.read_as)
            cast.update(exc.cast)
            changes = ", ".join(f"{name!r} to {dtype}" for name, dtype in {**exc.read_as, **exc.cast}.items())
            print(f"column types change between pieces: reading again with {changes}", file=log)
            continue
        print(f"{rows} rows in {pieces} piece(s) of up to {piece}", file=log)
        return rows, rows, work.output_url
    raise _Unstreamable(f"column types still changed between pieces after {MAX_PASSES} passes")


def _score_pass(
    work: ScoreSpec,
    runtime: Runtime,
    piece: int,
    read_as: Mapping[str, Any],
    cast: Mapping[str, Any],
    sync: bool,
    progress: Callable[[int], None] | None,
) -> tuple[int, int]:
    rows = pieces = 0
    types: dict[str, Any] = {}
    missing: dict[str, bool] = {}  # float columns whose every value so far was missing
    with datasets.OutputFile(work.output_url, work.output_format, sync) as out:
        frames = datasets.iter_frames(
            work.inputs, work.input_format, work.input_root, piece, work.partition or None, work.part, read_as
        )
        for frame in frames:
            columns, dtypes = datasets.columns_of(frame), datasets.text_dtypes(frame)
            scored = _scored(work, runtime, columns, dtypes)
            predicted = [name for name in scored if name not in frame.columns]
            for name in set(predicted).intersection(cast):
                scored[name] = datasets.pandas().Series(scored[name]).astype(cast[name]).to_numpy()
            # every input column (features the output leaves out included: the model must get the same types
            # as from a whole read) and every prediction
            values = {name: frame[name].to_numpy() for name in frame.columns if _is_float(frame[name].dtype)}
            values.update((name, scored[name]) for name in predicted)
            kinds = {**dict(frame.dtypes.items()), **{n: getattr(scored[n], "dtype", None) for n in predicted}}
            if pieces == 0:
                _check_streamable({name: kinds.get(name, dtypes.get(name)) for name in scored}, work.output_format)
                types = kinds
            _compare(types, kinds, missing, values, set(frame.columns))
            try:
                out.write(scored, dtypes)
            except datasets.SchemaChanged as exc:
                raise _Unstreamable(str(exc)) from exc
            rows += len(frame)
            pieces += 1
            if progress is not None:
                progress(rows)  # of this pass: a pass read again starts from 0
    return rows, pieces


def _input_types(work: ScoreSpec, piece: int) -> dict[str, Any]:
    return widened_types(
        datasets.iter_frames(work.inputs, work.input_format, work.input_root, piece, work.partition or None, work.part)
    )


def widened_types(frames: Iterable[Any]) -> dict[str, Any]:
    """The types of the columns that change from piece to piece (``frames``, read in turn), as a whole read gives
    them: what a CSV parser infers of each piece, widened as ``_wider`` says."""
    types: dict[str, Any] = {}
    missing: dict[str, bool] = {}
    varied: set[str] = set()
    for frame in frames:
        for name, dtype in frame.dtypes.items():
            if _is_float(dtype):
                missing[name] = missing.get(name, True) and bool(frame[name].isna().all())
            if name not in types:
                types[name] = dtype
            elif dtype != types[name]:
                types[name] = _wider(types[name], dtype, missing.get(name, False))
                varied.add(name)
    return {name: types[name] for name in varied}


def _check_streamable(kinds: Mapping[str, Any], fmt: str) -> None:
    if fmt != "csv":
        return
    pd = datasets.pandas()
    for name, dtype in kinds.items():
        base = dtype.categories.dtype if isinstance(dtype, pd.CategoricalDtype) else dtype
        if getattr(base, "kind", None) not in _TEXT_PER_VALUE:
            raise _Unstreamable(f"pandas chooses the CSV text of {name!r} ({dtype}) for the whole column")


_TEXT_PER_VALUE = {"b", "i", "u", "f", "O"}  # dtype kinds whose values pandas writes to CSV each on its own


def _compare(
    types: Mapping[str, Any],
    kinds: Mapping[str, Any],
    missing: dict[str, bool],
    values: Mapping[str, Any],
    inputs: set[str],
) -> None:
    """Raise ``_Widen`` where a piece's column types differ from the first piece's, ``_Unstreamable`` where its
    columns do. ``missing``: for each float column, whether all its values so far were missing; ``inputs``: the
    names of the input's columns (the rest are predictions)."""
    if list(kinds) != list(types):
        raise _Unstreamable("the input's pieces have different columns")
    for name, dtype in kinds.items():
        if _is_float(dtype):
            missing[name] = missing.get(name, True) and bool(np.isnan(values[name]).all())
    changed = {
        name: _wider(types[name], dtype, missing.get(name, False))
        for name, dtype in kinds.items()
        if dtype != types[name]
    }
    if changed:
        raise _Widen(
            {n: d for n, d in changed.items() if n in inputs}, {n: d for n, d in changed.items() if n not in inputs}
        )


def _wider(first: Any, then: Any, all_missing: bool) -> Any:
    """The type pandas gives a column read whole whose pieces came as ``first`` and ``then``: where the float one
    holds only missing values, the other type if it can hold them too (strings, dates, floats), as pandas' reader
    widens its blocks; text where one piece had numbers and the other text (pandas reads such a column as text);
    otherwise what ``pd.concat`` makes of both."""
    pd = datasets.pandas()
    if all_missing:
        if _is_float(first) and _holds_missing(then):
            return then
        if _is_float(then) and _holds_missing(first):
            return first
    for text, other in ((first, then), (then, first)):  # numbers in one piece, text in another: the whole is text
        if isinstance(text, pd.StringDtype) and isinstance(other, np.dtype) and other.kind in "biuf":
            return text
    return pd.concat([pd.Series([], dtype=first), pd.Series([], dtype=then)], ignore_index=True).dtype


def _is_float(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "f"


def _holds_missing(dtype: Any) -> bool:
    return not (isinstance(dtype, np.dtype) and dtype.kind in "biu")


def _rows(work: ScoreSpec) -> tuple[dict[str, Any], Mapping[str, Any]]:
    """The task's rows, by column, and the dtypes of its text columns: sent with the task, read from where the run
    put them (a large input it cut a piece at a time), or read again from its files (a retry, an input file)."""
    if work.data is not None:
        data = work.data
        if isinstance(data, Mapping):
            return dict(data), work.dtypes
        return datasets.columns_of(data), datasets.text_dtypes(data)
    if work.spooled:
        return spool.read(work.spooled), work.dtypes
    frame = datasets.read_files(work.inputs, work.input_format, work.input_root, part=work.part)
    if work.partition:
        mask = np.ones(len(frame), dtype=bool)
        for column, value in work.partition.items():
            mask &= (frame[column] == value).to_numpy()
        frame = frame[mask]
    return datasets.columns_of(frame), datasets.text_dtypes(frame)


def _features(work: ScoreSpec, runtime: Runtime, columns: Mapping[str, Any]) -> list[str]:
    named = getattr(runtime, "feature_names", None)
    features = list(work.features) if work.features is not None else named
    if features is None:
        raise InvalidInputError(
            f"model {work.model.version.ref} does not name its input columns: set features: on the step "
            f"(the input has {', '.join(map(str, columns))})"
        )
    _require(columns, features, "feature column(s) {}")
    return list(features)


def _require(columns: Mapping[str, Any], names: Sequence[str], what: str) -> None:
    """Fail on the data (not retried) when the input lacks some of ``names``; ``what`` names them."""
    missing = [c for c in names if c not in columns]
    if missing:
        raise InvalidInputError(
            f"the input lacks {what.format(', '.join(map(repr, missing)))}; it has: {', '.join(map(str, columns))}"
        )


def _predict(
    runtime: Runtime,
    columns: Mapping[str, Any],
    rows: slice,
    features: Sequence[str],
    work: ScoreSpec,
    dtypes: Mapping[str, Any],
) -> dict[str, Any]:
    named = getattr(runtime, "feature_names", None)
    parts = [columns[f][rows] for f in features]
    if named is not None:
        x: Any = datasets.frame_of(dict(zip(features, parts, strict=True)), dtypes)
    elif len(parts) == 1 and parts[0].dtype == object:
        x = parts[0].tolist()  # one text column: a text pipeline takes a list of strings
    else:
        x = _matrix(features, parts)
    raw = runtime.predict(x)
    predicted = _prediction_columns(raw, work.prediction_column, rows.stop - rows.start, runtime)
    if work.labels is not None:
        predicted = {name: _relabel(values, work.labels) for name, values in predicted.items()}
    return predicted


def _matrix(features: Sequence[str], parts: Sequence[Any]) -> Any:
    """The rows as pandas' ``frame[features].to_numpy()`` gives them (its dtype, its column-major layout), without
    building the frame where the columns share one numpy dtype."""
    dtypes = {p.dtype for p in parts}
    if len(dtypes) == 1 and all(isinstance(p, np.ndarray) for p in parts):
        return np.stack(parts).T
    return datasets.frame_of(dict(zip(features, parts, strict=True))).to_numpy()


def _relabel(values: Any, labels: Mapping[Any, Any]) -> Any:
    """``Series.replace(labels)``: at list speed for integer predictions mapped to integers (the common case, such as
    a one-class model's -1 and 1), through pandas for everything else (floats, strings, NaN keys, booleans)."""
    array = np.asarray(values)
    if array.dtype.kind in "iu" and all(type(k) is int and type(v) is int for k, v in labels.items()):
        items = array.tolist()
        mapped = list(map(labels.get, items, items))
        info = np.iinfo(array.dtype)
        if info.min <= min(mapped, default=0) and max(mapped, default=0) <= info.max:
            return np.array(mapped, dtype=array.dtype)
    return datasets.pandas().Series(array).replace(dict(labels)).to_numpy()


def _joined(chunks: Sequence[Mapping[str, Any]], name: str) -> dict[str, Any]:
    if not chunks:
        return {name: np.empty(0, dtype=object)}
    names = list(chunks[0])
    if any(list(c) != names for c in chunks):
        raise InvalidInputError("the model answered different outputs for different mini-batches of the same rows")
    if len(chunks) == 1:
        return dict(chunks[0])
    # mini-batches that came out in different types are joined as pandas joins them
    return {n: datasets.concatenated([np.asarray(c[n]) for c in chunks]) for n in names}


def _prediction_columns(raw: Any, name: str, rows: int, runtime: Runtime) -> dict[str, Any]:
    if isinstance(raw, dict):  # several named outputs (ONNX): one column each
        out: dict[str, Any] = {}
        for key, value in raw.items():
            out.update(_prediction_columns(value, f"{name}_{key}", rows, runtime))
        return out
    array = np.asarray(raw)
    if array.ndim == 1 and len(array) == rows:
        return {name: array}
    if array.ndim == 2 and len(array) == rows:
        if array.shape[1] == 1:
            return {name: array[:, 0]}
        classes = getattr(getattr(runtime, "model", None), "classes_", None)
        labels = [str(c) for c in classes] if classes is not None and len(classes) == array.shape[1] else None
        return {f"{name}_{labels[i] if labels else i}": array[:, i] for i in range(array.shape[1])}
    raise InvalidInputError(
        f"the model answered {array.shape} for {rows} rows: expected one prediction (or one row of them) per row"
    )


# -- script -----------------------------------------------------------------------------------------------------


class _ScriptFailed(Exception):
    pass


def _script(work: ScriptSpec, log: io.StringIO) -> str:
    command = [sys.executable, work.script, *work.args]
    print("$ " + " ".join(command), file=log)
    env = {**os.environ, **work.env, "PYTHONUNBUFFERED": "1"}
    try:
        done = subprocess.run(
            command,
            cwd=work.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=work.timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        log.write(output)
        raise _ScriptFailed(f"the script ran past its timeout of {work.timeout_s} s and was stopped") from exc
    output = done.stdout.decode(errors="replace")
    log.write(output)
    if done.returncode != 0:
        tail = "\n".join(output.rstrip().splitlines()[-SCRIPT_TAIL_LINES:])
        raise _ScriptFailed(f"the script exited with code {done.returncode}" + (f":\n{tail}" if tail else ""))
    return work.env.get("MODELPORT_OUTPUT", "")
