"""``optimize``: convert a registered scikit-learn version to ONNX, check it answers the same, time both, and
register the ONNX version only when it is equivalent and faster."""

from __future__ import annotations

import importlib.metadata
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..codecs.signature import Signature
from ..errors import InvalidInputError
from ..registry import ModelVersion
from ..runtimes import ModelContext, Runtime, create_runtime
from ..runtimes.base import SERVING_OPTIONS
from .benchmark import BATCH_ROWS, REPEAT, Timing, benchmark
from .convert import Conversion, UnconvertibleError, convert, squeeze_output
from .equivalence import GENERATED_ROWS, SPREAD, Probe, Tolerance, compare, first_rows, generated_probe, sample_probe
from .report import DRY_RUN, REGISTERED, OptimizeReport

if TYPE_CHECKING:
    from ..registry import Workspace

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


def _tools() -> dict[str, str]:
    versions = {}
    for package in ("skl2onnx", "onnx", "onnxruntime", "scikit-learn"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _onnx_runtime(version: ModelVersion, conversion: Conversion, folder: Path, threads: int | None) -> Runtime:
    path = folder / "model.onnx"
    path.write_bytes(conversion.model.SerializeToString())
    options: dict[str, Any] = dict(conversion.runtime_options)
    if threads is not None:
        options["threads"] = threads
    context = ModelContext(
        name=version.name,
        version=version.version,
        framework="onnx",
        model_dir=folder,
        model_path=path.name,
        signature=Signature.from_dict(version.signature) if version.signature else None,
        options=options,
    )
    runtime = create_runtime(context)
    runtime.load()
    return runtime


def _shaped_like_original(
    original: Runtime, onnx: Runtime, conversion: Conversion, probe: Probe, reload: Callable[[], Runtime]
) -> Runtime:
    """A single-target regressor's ``predict`` is ``[N]``; skl2onnx's output is ``[N, 1]``: reshape it in the graph."""
    if conversion.output != "variable":
        return onnx
    expected = np.asarray(original.predict(first_rows(probe, 2)))
    got = np.asarray(onnx.predict(first_rows(probe, 2)))
    if expected.ndim == 1 and got.ndim == 2 and got.shape[1] == 1:
        squeeze_output(conversion.model, conversion.output)
        onnx.unload()
        return reload()
    return onnx


def _check_source(version: ModelVersion) -> None:
    if version.entry_script:
        raise InvalidInputError(
            f"{version.ref} is scored by its entry script {version.entry_script}: modelport optimize converts "
            "no-code scikit-learn models"
        )
    if version.framework != "sklearn":
        raise InvalidInputError(
            f"{version.ref} is a {version.framework} model: modelport optimize converts scikit-learn models to ONNX"
        )


def optimize(
    workspace: Workspace,
    ref: str,
    *,
    tolerance: Tolerance | None = None,
    min_speedup: float = 1.0,
    dry_run: bool = False,
    alias: str | None = None,
    threads: int | None = None,
    generated_rows: int = GENERATED_ROWS,
    spread: float = SPREAD,
    repeat: int = REPEAT,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> OptimizeReport:
    """Convert the scikit-learn version ``ref`` to ONNX and register it as a new version of the same name when it
    answers the same (within ``tolerance``, labels exactly) and is at least ``min_speedup`` times faster on one row
    and on a batch. A refusal is not raised: the report's ``outcome`` is ``refused`` and ``reason`` says why.

    Raises ``InvalidInputError`` for a version that is not a no-code scikit-learn model, or bad arguments, and
    ``MissingDependencyError`` when skl2onnx, onnx or onnxruntime is not installed.
    """
    say = progress or (lambda _text: None)
    tolerance = tolerance or Tolerance()
    if not min_speedup >= 0 or generated_rows < 1 or repeat < 1 or batch_rows < 1 or spread < 0:
        raise InvalidInputError(
            "min_speedup and spread must be >= 0; generated_rows, repeat and batch_rows must be >= 1"
        )
    if threads is not None and threads < 0:
        raise InvalidInputError(f"threads must be >= 0 (0: onnxruntime's choice), got {threads}")
    version = workspace.models.get(ref)
    _check_source(version)
    original = workspace.models.load(version.ref)
    method = str(original.options.get("method", "predict"))
    report = OptimizeReport(version.ref, method, tolerance, float(min_speedup), tools=_tools())
    try:
        say(f"converting {version.ref} with skl2onnx")
        try:
            conversion = convert(getattr(original, "model", None), method, version.sample_input)
        except UnconvertibleError as exc:
            return report.refuse(str(exc))
        report.layout, report.output, report.opset = conversion.layout.describe(), conversion.output, conversion.opset
        report.notes = list(conversion.notes)
        with tempfile.TemporaryDirectory(prefix="modelport-optimize-") as scratch:
            folder = Path(scratch)

            def load() -> Runtime:
                return _onnx_runtime(version, conversion, folder, threads)

            try:
                onnx = load()
            except InvalidInputError as exc:
                return report.refuse(f"onnxruntime cannot load the conversion: {exc}")
            try:
                return _check_and_decide(
                    workspace,
                    version,
                    original,
                    onnx,
                    conversion,
                    report,
                    load,
                    generated_rows=generated_rows,
                    spread=spread,
                    repeat=repeat,
                    batch_rows=batch_rows,
                    dry_run=dry_run,
                    alias=alias,
                    threads=threads,
                    say=say,
                )
            finally:
                onnx.unload()
    finally:
        original.unload()


def _check_and_decide(
    workspace: Workspace,
    version: ModelVersion,
    original: Runtime,
    onnx: Runtime,
    conversion: Conversion,
    report: OptimizeReport,
    load: Callable[[], Runtime],
    *,
    generated_rows: int,
    spread: float,
    repeat: int,
    batch_rows: int,
    dry_run: bool,
    alias: str | None,
    threads: int | None,
    say: Progress,
) -> OptimizeReport:
    model = getattr(original, "model", None)
    try:
        generated = generated_probe(model, conversion.layout, version.sample_input, generated_rows, spread)
        sample = sample_probe(conversion.layout, version.sample_input)
    except UnconvertibleError as exc:
        return report.refuse(str(exc))
    probes = [p for p in (sample, generated) if p is not None]
    onnx = _shaped_like_original(original, onnx, conversion, probes[0], load)
    say(f"comparing outputs on {' and '.join(p.label for p in probes)}")
    report.equivalence = compare(original, onnx, probes, report.tolerance, exact=conversion.output == "label")
    say(f"timing both in-process ({repeat} rounds: one row, and batches of {batch_rows} rows)")
    one_row = first_rows(sample or generated, 1)
    batch = first_rows(generated, batch_rows)
    report.timing = benchmark(original, onnx, one_row, batch, min(batch_rows, generated.rows), repeat)
    if not report.equivalence.equivalent:
        return report.refuse(f"not equivalent: {report.equivalence.mismatch}")
    if not _fast_enough(report.timing, report.min_speedup):
        return report.refuse(_not_faster(report.timing, report.min_speedup))
    if dry_run:
        report.outcome = DRY_RUN
        return report
    registered = _register(workspace, version, conversion, report, report.timing, threads)
    if alias is not None:
        registered = workspace.models.set_alias(registered.name, alias, registered.version)
        report.alias = alias
    report.outcome, report.version = REGISTERED, registered.ref
    logger.info("registered %s, the ONNX version of %s", registered.ref, version.ref)
    return report


def _fast_enough(timing: Timing, min_speedup: float) -> bool:
    return timing.speedup_one >= min_speedup and timing.speedup_batch >= min_speedup


def _not_faster(timing: Timing, min_speedup: float) -> str:
    return (
        f"not faster: one row {timing.original_one_us:.0f} us (sklearn) vs {timing.onnx_one_us:.0f} us (ONNX), "
        f"{timing.speedup_one:.2f}x; a batch of {timing.batch_rows} rows {timing.original_batch_us:.0f} us vs "
        f"{timing.onnx_batch_us:.0f} us, {timing.speedup_batch:.2f}x; both must be at least {min_speedup:g}x"
    )


def _register(
    workspace: Workspace,
    version: ModelVersion,
    conversion: Conversion,
    report: OptimizeReport,
    timing: Timing,
    threads: int | None,
) -> ModelVersion:
    tags = {
        **version.tags,
        "optimized_from": version.ref,
        "speedup": f"{timing.speedup_one:.2f}",
        "tolerance": report.tolerance.describe(),
    }
    # how the original is batched when served (its serving options) carries over; its sklearn options do not
    options: dict[str, Any] = {k: v for k, v in version.runtime_options.items() if k in SERVING_OPTIONS}
    options.update(conversion.runtime_options)
    if threads is not None:
        options["threads"] = threads
    description = f"ONNX version of {version.ref} (modelport optimize)"
    return workspace.models.register(
        version.name,
        obj=conversion.model,
        framework="onnx",
        description=f"{description}: {version.description}" if version.description else description,
        tags=tags,
        properties={**version.properties, "optimize": report.measurements()},
        sample_input=version.sample_input,
        sample_output=version.sample_output,
        resources=version.resources,
        runtime_options=options,
    )
