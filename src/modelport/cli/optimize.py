"""``modelport optimize``: convert a scikit-learn model to ONNX and register it when it is equivalent and faster."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from ..optimize import OptimizationRefusedError, OptimizeReport, Tolerance
from ..optimize import optimize as run_optimize
from ..optimize.benchmark import REPEAT
from ._output import JSON_OPTION, console, err_console, fields, open_workspace, print_json, table


def _say(text: str) -> None:
    err_console.print(f"==> {text}", markup=False)


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2g}"


def _show(report: OptimizeReport) -> None:
    tools = report.tools
    lines = {"model": f"{report.source} (method {report.method})"}
    if report.opset is not None:  # converted
        lines["conversion"] = f"skl2onnx {tools.get('skl2onnx', '?')}, opset {report.opset}"
        lines["inputs"] = report.layout or "-"
        lines["output"] = report.output or "-"
        lines["notes"] = "; ".join(report.notes) or "-"
    lines["tolerance"] = report.tolerance.describe() + " (labels exactly)"
    equivalence = report.equivalence
    if equivalence is not None:
        verdict = "equivalent" if equivalence.equivalent else "NOT equivalent"
        how = (
            "labels compared exactly"
            if equivalence.exact
            else f"max abs diff {_number(equivalence.max_abs_diff)}, max rel diff "
            f"{_number(equivalence.max_rel_diff)} (at {equivalence.worst})"
        )
        lines["equivalence"] = f"{verdict} on {equivalence.rows_checked} rows: {how}"
    fields(lines)
    timing = report.timing
    if timing is not None:
        one = ("one row", timing.original_one_us, timing.onnx_one_us, timing.speedup_one)
        batch = (
            f"batch of {timing.batch_rows} rows",
            timing.original_batch_us,
            timing.onnx_batch_us,
            timing.speedup_batch,
        )
        table(
            ["", "SKLEARN", "ONNX", "SPEED-UP"],
            [(what, f"{a:,.0f} us", f"{b:,.0f} us", f"{x:.2f}x") for what, a, b, x in (one, batch)],
            title=f"In-process predict, median of {timing.repeat} rounds",
        )
    if report.outcome == "registered":
        suffix = f" as @{report.alias}" if report.alias else ""
        console.print(
            f"Registered [bold]{report.version}[/bold]{suffix} (onnx, optimized_from={report.source}, "
            f"speedup={timing.speedup_one:.2f})"
            if timing
            else f"Registered {report.version}{suffix}"
        )
    elif report.outcome == "dry-run":
        console.print(f"Dry run: {report.source} would be registered as an ONNX version (nothing registered)")
    else:
        console.print("Not registered.")


def optimize(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="MODEL", help="NAME, NAME:VERSION or NAME@ALIAS of a sklearn model.")],
    tolerance_rtol: Annotated[
        float, typer.Option(help="Relative tolerance on numeric outputs (labels must match exactly).")
    ] = Tolerance.rtol,
    tolerance_atol: Annotated[float, typer.Option(help="Absolute tolerance on numeric outputs.")] = Tolerance.atol,
    min_speedup: Annotated[
        float, typer.Option(help="Register only when ONNX is at least this many times faster (one row and batch).")
    ] = 1.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Measure and report; register nothing.")] = False,
    alias: Annotated[str | None, typer.Option(help="Point this alias at the new ONNX version.")] = None,
    threads: Annotated[
        int | None, typer.Option(help="onnxruntime intra-op threads for the ONNX version (default: its choice).")
    ] = None,
    repeat: Annotated[int, typer.Option(help="Benchmark rounds (the median is reported).")] = REPEAT,
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Convert a scikit-learn model version to ONNX (skl2onnx), check that it answers the same on the registered
    sample and on generated inputs, time both in-process, and register the ONNX version as a new version of the
    same model only when it is equivalent and faster. Exits 1, saying why, when it is not."""
    with open_workspace(ctx) as ws:
        report = run_optimize(
            ws,
            ref,
            tolerance=Tolerance(tolerance_rtol, tolerance_atol),
            min_speedup=min_speedup,
            dry_run=dry_run,
            alias=alias,
            threads=threads,
            repeat=repeat,
            progress=_say,
        )
    if json:
        print_json(report.to_dict())
    else:
        _show(report)
    if report.refused:
        raise OptimizationRefusedError(report)
