"""``modelport optimize`` on the two benchmark models of bench/serving.py: does the ONNX version answer the same,
and how much faster is it in-process?

The models are built by ``serving.build_models`` (a LogisticRegression on 10 features, "tabular", and TF-IDF +
LogisticRegression over 50 FAQ classes, "faq") and registered as bench/serving.py registers them (sample input =
the one request row, ``method=predict_proba``), each run in a fresh temporary workspace. Each run optimizes both;
the table gives the median over the runs of each median timing. onnxruntime gets one intra-op thread by default,
as scikit-learn gets one BLAS/OpenMP thread under ``OMP_NUM_THREADS=1`` (``--threads 0`` lets it choose).

    OMP_NUM_THREADS=1 python bench/optimize.py            # 3 runs of 200 rounds
    OMP_NUM_THREADS=1 python bench/optimize.py --runs 1 --json

Writes the raw reports as JSON next to this file (results/optimize-<date>.json, or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from datetime import date
from pathlib import Path
from statistics import median
from typing import Any

from modelport import Workspace
from modelport.codecs.json import dumps
from modelport.optimize import optimize
from serving import build_models  # bench/serving.py: the same two models, built the same way

HERE = Path(__file__).resolve().parent


def one_run(repeat: int, min_speedup: float, threads: int | None) -> dict[str, dict[str, Any]]:
    """Build, register and optimize both models in a fresh workspace; the reports by model name."""
    with tempfile.TemporaryDirectory(prefix="modelport-bench-optimize-") as scratch:
        folder = Path(scratch)
        models = build_models(folder)
        reports = {}
        with Workspace(folder / "ws") as ws:
            for name, (fitted, row) in models.items():
                ws.models.register(
                    name, obj=fitted, sample_input={"data": row}, runtime_options={"method": "predict_proba"}
                )
                report = optimize(ws, name, repeat=repeat, min_speedup=min_speedup, threads=threads)
                reports[name] = json.loads(dumps(report.to_dict()))
                timing = reports[name]["timing"] or {}
                print(
                    f"{name:8} {report.outcome:10} one row {timing.get('speedup_one_row', 0):6.2f}x  "
                    f"batch {timing.get('speedup_batch', 0):6.2f}x  {report.reason or report.version}",
                    file=sys.stderr,
                )
    return reports


def summary(runs: list[dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for name in runs[0]:
        timings = [run[name]["timing"] for run in runs if run[name]["timing"]]
        keys = ("original_one_row_us", "onnx_one_row_us", "original_batch_us", "onnx_batch_us")
        values: dict[str, Any] = {k: median(t[k] for t in timings) for k in keys}
        values["speedup_one_row"] = median(t["speedup_one_row"] for t in timings)
        values["speedup_batch"] = median(t["speedup_batch"] for t in timings)
        last = runs[-1][name]
        equivalence = last["equivalence"] or {}
        rows.append(
            {
                "model": name,
                "outcomes": [run[name]["outcome"] for run in runs],
                "max_abs_diff": equivalence.get("max_abs_diff"),
                "reason": last["reason"],
                **values,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="independent runs; the table gives their medians")
    parser.add_argument("--repeat", type=int, default=200, help="benchmark rounds per timing")
    parser.add_argument("--min-speedup", type=float, default=1.0, help="as modelport optimize --min-speedup")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="onnxruntime intra-op threads (0: its choice); 1 matches OMP_NUM_THREADS=1",
    )
    parser.add_argument("--json", action="store_true", help="print the raw reports as JSON")
    parser.add_argument("--out", type=Path, help="where to write the reports (default: results/optimize-DATE.json)")
    args = parser.parse_args(argv)
    runs = [one_run(args.repeat, args.min_speedup, args.threads or None) for _ in range(args.runs)]
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "onnxruntime_threads": args.threads,
    }
    out = args.out.resolve() if args.out else HERE / "results" / f"optimize-{date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": machine, "runs": runs}, indent=1) + "\n")
    if args.json:
        print(json.dumps({"machine": machine, "runs": runs}, indent=1))
        return 0
    print(f"\n{args.runs} run(s) of {args.repeat} rounds, onnxruntime threads {args.threads}; medians over the runs\n")
    columns = ["model", "outcome", "max abs diff", "one row: sklearn us", "ONNX us", "speed-up"]
    columns += ["batch of 64: sklearn us", "ONNX us", "speed-up"]
    print("| " + " | ".join(columns) + " |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in summary(runs):
        outcome = ", ".join(sorted(set(row["outcomes"])))
        diff = f"{row['max_abs_diff']:.2g}" if row["max_abs_diff"] is not None else "-"
        print(
            f"| {row['model']} | {outcome} | {diff} | {row['original_one_row_us']:,.0f} | "
            f"{row['onnx_one_row_us']:,.0f} | {row['speedup_one_row']:.2f}x | {row['original_batch_us']:,.0f} | "
            f"{row['onnx_batch_us']:,.0f} | {row['speedup_batch']:.2f}x |"
        )
    for row in summary(runs):
        if row["reason"]:
            print(f"\n{row['model']}: {row['reason']}")
    print(f"\nraw reports: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
