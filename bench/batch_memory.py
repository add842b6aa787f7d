"""Batch scoring of one large file with one model: time and peak memory of the worker and of the run's process.

Setup (not measured): N rows (default 4 million) of 8 numeric features, an id, a timestamp and a site (0-19)
column, written as one CSV and one Parquet file (pyarrow's default row groups) in a temporary workspace; a
StandardScaler + LogisticRegression fitted on 20,000 of them and registered; a one-step pipeline per case that scores
the input with the given mini-batch size, writing CSV for a CSV input and Parquet for Parquet: unpartitioned (one
task per file, or per part with split_rows), or partitioned by site (a task per site, which the run cuts from the
input: a piece at a time when it is larger than stream_above_mb, else read whole).

Measured, each in a fresh process so that every peak is its own: a run on one local worker (``RunExecutor.execute``,
from create to completed), and then, from /proc, the worker's peak resident memory (VmHWM) and the run's process'
own peak (VmHWM too: its imports and the run's records, not the data). Checks: the output has every row, its predictions
equal the model's ``predict`` on the input (on a sample of rows spread over the file) and its ids are in the input's
order.

    python bench/batch_memory.py                     # 4M rows, CSV and Parquet, 2 repeats
    python bench/batch_memory.py --rows 200000 --repeat 1
    python bench/batch_memory.py --baseline /tmp/base/src   # also runs another version of modelport on the same files

``--baseline SRC`` measures the modelport found in SRC (say, a ``git worktree`` of an earlier commit) beside this one,
each run in turn, on the same files and workspace, so that the two are compared within one run of the benchmark.

Prints a table and writes JSON to bench/results/batch-memory-<date>.json (--out picks another place).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
FEATURES = [f"x{i}" for i in range(8)]
FORMATS = ("csv", "parquet")
SITES = 20  # the partitioned cases' partitions: a "site" column of 0-19, drawn at random for each row
# case -> (input format, workers, split_rows, partitioned): the "-split" cases cut the file into parts, a task each,
# on two workers (this machine's cores): the Parquet file at its row groups, the CSV file every million rows; the
# "-partitioned" cases score each site's rows as a task (partition_by: [site]) on two workers; the others are one
# task on one worker
CASES = {
    "csv": ("csv", 1, None, False),
    "parquet": ("parquet", 1, None, False),
    "parquet-split": ("parquet", 2, 1, False),
    "csv-split": ("csv", 2, 1_000_000, False),
    "csv-partitioned": ("csv", 2, None, True),
    "parquet-partitioned": ("parquet", 2, None, True),
}


def setup(home: Path, rows: int, mini_batch: int, cases: list[str]) -> dict[str, Any]:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from modelport import Workspace
    from modelport.batch import PipelineRegistry
    from modelport.batch.pipeline import Pipeline

    rng = np.random.default_rng(7)
    values = np.round(rng.normal(0, 1, size=(rows, len(FEATURES))), 4)
    frame = pd.DataFrame(values, columns=FEATURES)
    frame.insert(0, "id", [f"row-{i:09d}" for i in range(rows)])
    frame.insert(1, "TS", pd.date_range("2026-12-01", periods=rows, freq="s").strftime("%Y-%m-%d %H:%M:%S"))
    frame.insert(2, "site", rng.integers(0, SITES, size=rows))
    labels = (values[:, 0] + 0.5 * values[:, 1] - values[:, 2] > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame[FEATURES][:20000], labels[:20000])
    (home / "in").mkdir()
    frame.to_csv(home / "in" / "data.csv", index=False)
    frame.to_parquet(home / "in" / "data.parquet", index=False)
    with Workspace(home / "ws") as ws:
        ws.models.register("big", obj=model, framework="sklearn")
        for case in cases:
            fmt, _, split, partitioned = CASES[case]
            step = {
                "name": "score",
                "type": "score",
                "model": "big",
                "input": str(home / "in" / f"data.{fmt}"),
                "features": FEATURES,
                "mini_batch_size": mini_batch,
                "keep": ["id", "TS", "site"] if partitioned else ["id", "TS"],
                "retries": 0,
            }
            if split is not None:
                step["split_rows"] = split
            if partitioned:
                step["partition_by"] = ["site"]
            PipelineRegistry(ws).register(Pipeline.from_dict({"name": f"big-{case}", "steps": [step]}))
    return {case: (home / "in" / f"data.{fmt}").stat().st_size for case, (fmt, *_) in CASES.items()}


def measure(home: Path, case: str) -> dict[str, Any]:
    """One run in this process, on a kept local engine whose workers' /proc peaks are read before it stops."""
    from modelport import Workspace
    from modelport.batch import RunExecutor, RunRegistry
    from modelport.batch.engines import EnginePool

    engines = EnginePool(idle_s=3600)
    with Workspace(home / "ws") as ws:
        workers = CASES[case][1]
        engine = engines.acquire("local", workers)
        for _ in range(workers):  # every worker started and warm, as the run would find them after its planning
            engine.submit([]).result()
        pids = list(engine._pool._processes)
        idle = max(_peak_mb(pid) for pid in pids)
        engines.release(engine)
        started = time.perf_counter()
        run = RunRegistry(ws).create(f"big-{case}", {}, engine="local", workers=workers)
        done = RunExecutor(ws, engines=engines).execute(run.id)
        seconds = time.perf_counter() - started
        worker_peak = max(_peak_mb(pid) for pid in pids)
        outputs = [t.output for t in done.tasks]
        error = done.error or next((t.error for t in done.tasks if t.error), None)
    engines.close()
    return {
        "status": done.status,
        "error": error,
        "seconds": seconds,
        "worker_peak_mb": worker_peak,
        "worker_idle_mb": idle,
        "tasks": len(done.tasks),
        "driver_peak_mb": _peak_mb(os.getpid()),  # not ru_maxrss, which keeps the parent's peak across exec
        "outputs": outputs,
    }


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def check(home: Path, case: str, outputs: list[str], rows: int) -> list[str]:
    import joblib  # noqa: F401 (the model is loaded through the workspace)
    import numpy as np
    import pandas as pd

    from modelport import Workspace

    fmt = CASES[case][0]
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    out = pd.concat([read(output) for output in outputs], ignore_index=True)
    problems = []
    if len(out) != rows:
        problems.append(f"{fmt}: {len(out)} rows written, expected {rows}")
        return problems
    source = read(home / "in" / f"data.{fmt}")
    if CASES[case][3]:  # a file a site: each in the input's order, the sites one after the other
        for site, rows_of_site in out.groupby("site", sort=False):
            if not (rows_of_site["id"].to_numpy() == source["id"][source["site"] == site].to_numpy()).all():
                problems.append(f"{case}: site {site}'s ids out of order")
        out = out.sort_values("id", ignore_index=True)
    if not (out["id"].to_numpy() == source["id"].to_numpy()).all():
        problems.append(f"{case}: ids out of order")
    sample = np.linspace(0, rows - 1, 2000).astype(int)
    with Workspace(home / "ws") as ws:
        model = ws.models.load("big").model
    expected = model.predict(source[FEATURES].iloc[sample])
    if not (out["Prediction"].to_numpy()[sample] == expected).all():
        problems.append(f"{fmt}: predictions differ from the model's predict")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--mini-batch", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--cases", default=",".join(CASES), help="of: " + ", ".join(CASES))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--baseline", type=Path, help="the src folder of another modelport to measure beside this one")
    parser.add_argument("--measure", nargs=2, metavar=("HOME", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure[0]), args.measure[1])))
        return 0

    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}: expected some of {', '.join(CASES)}")
    home = Path(tempfile.mkdtemp(prefix="modelport-batch-memory-"))
    try:
        started = time.perf_counter()
        sizes = setup(home, args.rows, args.mini_batch, cases)
        print(
            f"setup: {args.rows:,} rows, "
            + ", ".join(f"{f} {sizes[f] / 2**20:.0f} MB" for f in FORMATS)
            + f" ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        versions = {"this": None} if args.baseline is None else {"this": None, "baseline": str(args.baseline)}
        runs_of = {
            (case, version): source
            for case in cases
            for version, source in versions.items()
            if version == "this" or CASES[case][2] is None  # an earlier modelport may not know split_rows
        }
        results: dict[str, list[dict[str, Any]]] = {f"{c} {v}": [] for c, v in runs_of}
        problems: list[str] = []
        for repeat in range(args.repeat):
            for (case, version), source in runs_of.items():
                env = dict(os.environ)
                if source is not None:
                    env["PYTHONPATH"] = source
                done = subprocess.run(
                    [sys.executable, __file__, "--measure", str(home), case],
                    capture_output=True,
                    text=True,
                    check=False,
                    env=env,
                )
                if done.returncode != 0:
                    raise SystemExit(f"the {case} run ({version}) failed:\n{done.stderr}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                if result["status"] != "completed":
                    raise SystemExit(f"the {case} run ({version}) ended {result['status']}: {result['error']}")
                if repeat == 0:
                    problems += check(home, case, result["outputs"], args.rows)
                results[f"{case} {version}"].append(result)
                print(
                    f"  {case} {version} #{repeat + 1}: {result['seconds']:.2f} s, {result['tasks']} task(s), "
                    f"worker peak {result['worker_peak_mb']:.0f} MB (idle {result['worker_idle_mb']:.0f}), "
                    f"run's process {result['driver_peak_mb']:.0f} MB",
                    flush=True,
                )
        print()
        print("| case | modelport | workers | tasks | file MB | seconds | rows/s | worker peak MB (idle) | driver MB |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        summary = {}
        for name, runs in results.items():
            case, version = name.split()
            seconds = statistics.median(r["seconds"] for r in runs)
            worker = statistics.median(r["worker_peak_mb"] for r in runs)
            idle = statistics.median(r["worker_idle_mb"] for r in runs)
            driver = statistics.median(r["driver_peak_mb"] for r in runs)
            summary[name] = {
                "seconds": seconds,
                "worker_peak_mb": worker,
                "worker_idle_mb": idle,
                "driver_peak_mb": driver,
                "file_mb": sizes[case] / 2**20,
                "workers": CASES[case][1],
                "tasks": runs[0]["tasks"],
            }
            print(
                f"| {case} | {version} | {CASES[case][1]} | {runs[0]['tasks']} | {sizes[case] / 2**20:.0f} |"
                f" {seconds:.2f} | {args.rows / seconds:,.0f} | {worker:.0f} ({idle:.0f}) | {driver:.0f} |"
            )
        print("checks: " + ("; ".join(problems) if problems else "every row written, in order, predictions equal"))
        import numpy
        import pandas
        import pyarrow
        import sklearn

        import modelport

        record = {
            "date": date.today().isoformat(),
            "rows": args.rows,
            "mini_batch": args.mini_batch,
            "repeat": args.repeat,
            "summary": summary,
            "runs": results,
            "problems": problems,
            "modelport": str(Path(modelport.__file__).parent),
            "baseline": None if args.baseline is None else str(args.baseline),
            "versions": {
                "python": platform.python_version(),
                "numpy": numpy.__version__,
                "pandas": pandas.__version__,
                "pyarrow": pyarrow.__version__,
                "scikit-learn": sklearn.__version__,
            },
            "load_average": os.getloadavg(),
        }
        out = args.out or HERE / "results" / f"batch-memory-{date.today().isoformat()}.json"
        out.write_text(json.dumps(record, indent=2) + "\n")
        print(f"written: {out}")
        return 1 if problems else 0
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
