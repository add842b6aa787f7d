"""Batch-scoring benchmark (issue 5): 1,000 sensor models over 1 million rows with the local engine and with Ray,
against one process per model and against the in-process limit.

Setup (timed apart, not measured): synthetic readings like the IoT example's (TS, Device, Tag, Value; 100 devices x
10 sensors, 1,000 readings each, in time order so the sensors are interleaved) written to one CSV in a temporary
workspace; one StandardScaler + OneClassSVM(nu=0.0001, gamma=0.01) per sensor fitted on its first 300 values and
registered as ``sensor-{Device}-{Tag}``; ``examples/iot/pipeline.yaml`` registered as it is.

Measured, interleaved in each repeat so that every line shares the machine's state:

- limit: each model loaded once in this process, then the sum over models of its pure ``predict`` time on its rows
  (in the pipeline's mini-batches), divided by the workers: no engine can do better than that on N cores.
- floor: the limit plus the least any engine must also do with the data, all on the CPU time of this process
  divided by the workers (perfect parallelism): read the input with pyarrow's C++ CSV reader (multithreaded, the
  timestamps left as text), cut it by sensor (one stable argsort and a take), and write each sensor's rows with a
  prediction column through pyarrow's C++ CSV writer, each to its own file opened once (no temporary name, no
  rename, no fsync, no task record, no log). Read, cut and written as the pipeline does, only faster: no Python
  engine can beat it, which makes it the honest bound to hold the engines to when the models are this small.
- local, ray: ``RunExecutor.execute`` of a run of the pipeline, wall time from ``create`` to completed (Ray is
  started once before the repeats, as a cluster would already be; that start is reported apart).
- local-warm: the same run on a local engine kept between runs (``EnginePool``), as ``modelport server`` keeps it
  for its scheduled runs: a first run (reported apart) starts the workers and loads the models, then each measured
  run finds them loaded.
- per-process: the original design, one job per sensor: ``bench/batch_job.py`` in a fresh ``python`` per sensor,
  N at a time; each loads its model from the workspace, reads the whole input, keeps its rows, predicts and writes
  its file. Only a sample of the sensors is run (``--per-process-sample``, evenly spread) and the time scaled to all
  of them, which the table says.

Checks: every local and ray output equals the in-process predictions, local and ray outputs are identical byte for
byte, and the per-process sample's outputs equal the in-process predictions too.

    python bench/batch.py                         # 1,000 models, 1M rows, 2 workers, 3 repeats
    python bench/batch.py --quick                 # 20 models x 500 rows, 1 repeat: a smoke run
    python bench/batch.py --engines limit,local --repeat 5

Prints a table and writes JSON to bench/results/batch-<date>.json (batch-<date>-partial.json for --quick or any run
that leaves something out; --out picks another place).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # one BLAS thread everywhere: the workers are the parallelism

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import OneClassSVM  # noqa: E402

from modelport import Workspace  # noqa: E402
from modelport.batch import PipelineRegistry, RunExecutor, RunRegistry  # noqa: E402
from modelport.batch.engines import EnginePool  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PIPELINE = ROOT / "examples" / "iot" / "pipeline.yaml"
JOB = HERE / "batch_job.py"
TAGS = 10
TRAINING_ROWS = 300
MINI_BATCH = 1000  # the pipeline's default batch_size
LABELS = {1: 0, -1: 1}
APPROACHES = ("limit", "floor", "local", "local-warm", "ray", "per-process")
WARM = {"local-warm": "local"}  # an engine kept between runs, as modelport server keeps local ones (not Ray's)


# -- setup --------------------------------------------------------------------------------------------------------


def sensors(models: int) -> list[tuple[int, int]]:
    tags = min(TAGS, models)
    return [(1 + i // tags, 1 + i % tags) for i in range(models)]


def make_data(models: int, rows: int, seed: int = 5) -> pd.DataFrame:
    """Readings in time order: at each timestamp every sensor reports once; ~0.5% of the later ones are spikes."""
    pairs = sensors(models)
    per = rows // models
    rng = np.random.default_rng(seed)
    mean = rng.uniform(10, 100, models)
    scale = rng.uniform(0.5, 5, models)
    values = rng.normal(mean, scale, size=(per, models))
    spikes = rng.random((per, models)) < 0.005
    spikes[:TRAINING_ROWS] = False
    values[spikes] += rng.choice([-1, 1], size=spikes.sum()) * 8 * np.broadcast_to(scale, (per, models))[spikes]
    stamps = pd.date_range("2026-12-01", periods=per, freq="5s").strftime("%Y-%m-%d %H:%M:%S.000")
    return pd.DataFrame(
        {
            "TS": np.repeat(np.asarray(stamps), models),
            "Device": np.tile([d for d, _ in pairs], per),
            "Tag": np.tile([t for _, t in pairs], per),
            "Value": np.round(values, 2).reshape(-1),
        }
    )


def setup(home: Path, models: int, rows: int) -> tuple[Path, dict[str, float]]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    frame = make_data(models, rows)
    data = home / "sensor_data.csv"
    frame.to_csv(data, index=False)
    timings["data_s"] = time.perf_counter() - started

    started = time.perf_counter()
    fitted = {}
    for (device, tag), readings in frame.groupby(["Device", "Tag"], sort=True):
        values = readings["Value"].to_numpy()[:TRAINING_ROWS].reshape(-1, 1)
        model = make_pipeline(StandardScaler(), OneClassSVM(nu=0.0001, kernel="rbf", gamma=0.01))
        fitted[(int(device), int(tag))] = model.fit(values)
    timings["train_s"] = time.perf_counter() - started

    started = time.perf_counter()
    with Workspace(home / "ws") as ws:
        for (device, tag), model in fitted.items():
            ws.models.register(
                f"sensor-{device}-{tag}",
                obj=model,
                framework="sklearn",
                tags={"device": str(device), "sensor": str(tag)},
            )
        PipelineRegistry(ws).register(PIPELINE)
    timings["register_s"] = time.perf_counter() - started
    return data, timings


# -- the approaches -----------------------------------------------------------------------------------------------


class Limit:
    """The models loaded once here, and each sensor's rows as the array its model predicts on."""

    def __init__(self, ws: Workspace, frame: pd.DataFrame) -> None:
        started = time.perf_counter()
        self.rows: dict[tuple[int, int], np.ndarray] = {}
        self.models: dict[tuple[int, int], Any] = {}
        for (device, tag), readings in frame.groupby(["Device", "Tag"], sort=True):
            key = (int(device), int(tag))
            self.rows[key] = readings[["Value"]].to_numpy()
            self.models[key] = ws.models.load(f"sensor-{device}-{tag}").model
        self.load_s = time.perf_counter() - started
        self.expected = {k: self.predict_one(k)[0] for k in self.models}

    def predict_one(self, key: tuple[int, int]) -> tuple[np.ndarray, float]:
        model, x = self.models[key], self.rows[key]
        out, spent = [], 0.0
        for start in range(0, len(x), MINI_BATCH):
            chunk = x[start : start + MINI_BATCH]
            began = time.perf_counter()
            out.append(model.predict(chunk))
            spent += time.perf_counter() - began
        return np.concatenate(out), spent

    def measure(self, workers: int) -> dict[str, float]:
        total = sum(self.predict_one(key)[1] for key in self.models)
        return {"seconds": total / workers, "predict_sum_s": total}


class Floor:
    """The data's share of the floor: reading, cutting and writing it with pyarrow's C++ code (see the docstring)."""

    def __init__(self, data: Path, home: Path) -> None:
        self.data = data
        self.out = Path(tempfile.mkdtemp(prefix="floor-", dir=home))

    def measure(self, workers: int, limit: Limit) -> dict[str, float]:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        predict_sum = sum(limit.predict_one(key)[1] for key in limit.models)
        began = time.process_time()  # every thread of this process: pyarrow reads on all the cores
        table = pcsv.read_csv(self.data, convert_options=pcsv.ConvertOptions(column_types={"TS": pa.string()}))
        read = time.process_time()
        sensor = table["Device"].to_numpy() * 1_000_000 + table["Tag"].to_numpy()
        order = np.argsort(sensor, kind="stable")
        table = table.take(pa.array(order))
        bounds = np.flatnonzero(np.diff(sensor[order])) + 1
        cut = time.process_time()
        predictions = pa.array(np.zeros(len(table), dtype=np.int64))  # the values do not change the cost
        table = table.append_column("Prediction", predictions)
        starts, ends = np.concatenate([[0], bounds]), np.concatenate([bounds, [len(table)]])
        for number, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            with open(self.out / f"predictions-{number}.csv", "wb") as f:
                pcsv.write_csv(table.slice(start, end - start), f)
        written = time.process_time()
        return {
            "seconds": (written - began + predict_sum) / workers,
            "read_cpu_s": read - began,
            "cut_cpu_s": cut - read,
            "write_cpu_s": written - cut,
            "predict_sum_s": predict_sum,
            "files": len(starts),
        }


def run_engine(
    ws: Workspace, data: Path, engine: str, workers: int, engines: EnginePool | None = None
) -> dict[str, Any]:
    started = time.perf_counter()
    run = RunRegistry(ws).create("iot-anomaly", {"input": str(data)}, engine=engine, workers=workers)
    done = RunExecutor(ws, engines=engines).execute(run.id)
    seconds = time.perf_counter() - started
    if done.status != "completed":
        raise SystemExit(f"the {engine} run {run.id} ended {done.status}: {done.error}")
    tasks = [t for t in done.tasks if t.step == "score"]
    return {
        "seconds": seconds,
        "run_id": run.id,
        "tasks": len(tasks),
        "task_time_sum_s": sum(t.duration_s or 0.0 for t in tasks),
        "outputs": {(int(t.partition["Device"]), int(t.partition["Tag"])): t.output for t in tasks},
    }


def run_per_process(home: Path, data: Path, sample: list[tuple[int, int]], workers: int, models: int) -> dict[str, Any]:
    out_dir = Path(tempfile.mkdtemp(prefix="per-process-", dir=home))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}

    def job(key: tuple[int, int]) -> Path:
        output = out_dir / f"predictions-{key[0]}-{key[1]}.csv"
        command = [sys.executable, str(JOB), str(home / "ws"), str(data), str(key[0]), str(key[1]), str(output)]
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        return output

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        outputs = dict(zip(sample, pool.map(job, sample), strict=True))
    measured = time.perf_counter() - started
    return {
        "seconds": measured * models / len(sample),
        "measured_s": measured,
        "sample": len(sample),
        "extrapolated": len(sample) < models,
        "outputs": {k: str(v) for k, v in outputs.items()},
    }


# -- checks -------------------------------------------------------------------------------------------------------


def check_outputs(outputs: dict[tuple[int, int], str], expected: dict[tuple[int, int], np.ndarray]) -> list[str]:
    problems = []
    for key, path in outputs.items():
        frame = pd.read_csv(path)
        want = pd.Series(expected[key]).replace(LABELS).to_numpy()
        if len(frame) != len(want) or not np.array_equal(frame["Prediction"].to_numpy(), want):
            problems.append(f"{key}: predictions differ from in-process ({path})")
    missing = set(expected) - set(outputs)
    if missing and len(outputs) == len(expected):
        problems.append(f"{len(missing)} sensors have no output")
    return problems


def identical(a: dict[tuple[int, int], str], b: dict[tuple[int, int], str]) -> list[str]:
    if set(a) != set(b):
        return ["local and ray wrote outputs for different sensors"]
    return [f"{k}: local and ray outputs differ" for k in a if Path(a[k]).read_bytes() != Path(b[k]).read_bytes()]


# -- report -------------------------------------------------------------------------------------------------------


def table(medians: dict[str, float], rows: int, notes: dict[str, str]) -> str:
    limit = medians.get("limit")
    floor = medians.get("floor")
    per_process = medians.get("per-process")
    lines = [
        "| approach | seconds | rows/s | vs limit | vs floor | speed-up over per-process |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in APPROACHES:
        if name not in medians:
            continue
        s = medians[name]
        ratio = f"{s / limit:.1f}x" if limit else "-"
        to_floor = f"{s / floor:.1f}x" if floor else "-"
        speedup = f"{per_process / s:.1f}x" if per_process else "-"
        label = name + (f" ({notes[name]})" if name in notes else "")
        lines.append(f"| {label} | {s:.2f} | {rows / s:,.0f} | {ratio} | {to_floor} | {speedup} |")
    return "\n".join(lines)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__}
    found["scikit-learn"] = sklearn.__version__
    try:
        import ray

        found["ray"] = ray.__version__
    except ModuleNotFoundError:
        pass
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in all (split evenly over the models)")
    parser.add_argument("--workers", type=int, default=2, help="engine workers, per-process concurrency, limit cores")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", default=",".join(APPROACHES), help=f"a subset of {','.join(APPROACHES)}")
    parser.add_argument("--per-process-sample", type=int, default=40, help="sensors run one process each")
    parser.add_argument("--quick", action="store_true", help="20 models x 500 rows, 1 repeat, a sample of 10")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace and print its path")
    parser.add_argument("--out", default=None, help="where to write the JSON")
    args = parser.parse_args()
    if args.quick:
        args.models, args.rows, args.repeat, args.per_process_sample = 20, 10_000, 1, 10
    wanted = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(wanted) - set(APPROACHES)
    if unknown:
        parser.error(f"unknown approach(es) {', '.join(sorted(unknown))}: choose from {', '.join(APPROACHES)}")
    partial = args.quick or set(wanted) != set(APPROACHES) or args.models != 1000 or args.rows != 1_000_000
    out = Path(args.out) if args.out else HERE / "results" / f"batch-{date.today()}{'-partial' if partial else ''}.json"

    home = Path(tempfile.mkdtemp(prefix="modelport-bench-batch-"))
    print(f"setup: {args.models} models, {args.rows:,} rows in {home}", flush=True)
    data, setup_s = setup(home, args.models, args.rows)
    print("setup: " + ", ".join(f"{k} {v:.1f}" for k, v in setup_s.items()), flush=True)
    frame = pd.read_csv(data)
    rows = len(frame)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in wanted}
    problems: list[str] = []
    extra: dict[str, Any] = {"setup_s": setup_s}
    with Workspace(home / "ws") as ws:
        limit = Limit(ws, frame)
        extra["limit_load_s"] = limit.load_s
        floor = Floor(data, home)
        if "ray" in wanted:
            import ray

            started = time.perf_counter()
            ray.init(  # as RayEngine starts it, so that its runs find it running
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
                runtime_env={"env_vars": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}},
            )
            extra["ray_start_s"] = time.perf_counter() - started
        pools = {name: EnginePool(idle_s=3600) for name in wanted if name in WARM}
        for name, pool in pools.items():  # the run before: it starts the workers, which load every model
            warmup = run_engine(ws, data, WARM[name], args.workers, pool)
            extra[f"{name}_first_run_s"] = warmup["seconds"]
            print(f"{name}: the first run, which starts the workers, {warmup['seconds']:.2f} s", flush=True)
        pairs = sensors(args.models)
        step = max(1, len(pairs) // max(1, args.per_process_sample))
        sample = pairs[::step][: args.per_process_sample]
        for repeat in range(args.repeat):
            for name in wanted:
                if name == "limit":
                    result: dict[str, Any] = limit.measure(args.workers)
                elif name == "floor":
                    result = floor.measure(args.workers, limit)
                elif name in ("local", "ray"):
                    result = run_engine(ws, data, name, args.workers)
                    problems += [f"{name}: {p}" for p in check_outputs(result["outputs"], limit.expected)]
                elif name in WARM:
                    result = run_engine(ws, data, WARM[name], args.workers, pools[name])
                    problems += [f"{name}: {p}" for p in check_outputs(result["outputs"], limit.expected)]
                else:
                    result = run_per_process(home, data, sample, args.workers, args.models)
                    problems += [f"per-process: {p}" for p in check_outputs(result["outputs"], limit.expected)]
                print(f"repeat {repeat + 1}: {name} {result['seconds']:.2f} s", flush=True)
                results[name].append(result)
            if "local" in results and "ray" in results:
                problems += identical(results["local"][-1]["outputs"], results["ray"][-1]["outputs"])
            for name in (n for n in WARM if n in results and WARM[n] in results):
                problems += identical(results[WARM[name]][-1]["outputs"], results[name][-1]["outputs"])
        for pool in pools.values():
            pool.close()
        if "ray" in wanted:
            ray.shutdown()
    medians = {name: statistics.median(r["seconds"] for r in runs) for name, runs in results.items()}
    notes = {}
    if "per-process" in results and results["per-process"][0]["extrapolated"]:
        notes["per-process"] = f"{len(sample)} of {args.models} run, scaled"
    if "limit" in results:
        notes["limit"] = f"sum of predict / {args.workers}"
    if "floor" in results:
        notes["floor"] = f"pyarrow read + cut + write, CPU, + predict, / {args.workers}"
    print()
    print(
        f"{args.models} models, {rows:,} rows, {args.workers} workers, median of {args.repeat}; "
        f"machine: {os.cpu_count()} cores, {platform.platform()}"
    )
    print(table(medians, rows, notes))
    ok = not problems
    print("checks: " + ("outputs equal in-process predictions; local and ray identical" if ok else "FAILED"))
    for problem in problems[:20]:
        print("  " + problem)
    for name in ("local", "local-warm"):
        if name in medians and "limit" in medians:
            ratio = medians[name] / medians["limit"]
            print(f"{name} / limit: {ratio:.2f}x (target 1.5x: {'met' if ratio <= 1.5 else 'not met'})")
    if "floor" in medians and "limit" in medians:
        ratio = medians["floor"] / medians["limit"]
        print(f"floor / limit: {ratio:.2f}x: no engine that reads and writes this data can come nearer the limit")

    for runs in results.values():
        for r in runs:
            r.pop("outputs", None)
    report = {
        "date": str(date.today()),
        "command": " ".join(["python", "bench/batch.py", *sys.argv[1:]]),
        "config": {
            "models": args.models,
            "rows": rows,
            "workers": args.workers,
            "repeat": args.repeat,
            "per_process_sample": len(sample) if "per-process" in results else None,
            "mini_batch_size": MINI_BATCH,
        },
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), **versions()},
        "medians_s": medians,
        "runs": results,
        "checks": {"ok": ok, "problems": problems},
        **extra,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    if args.keep:
        print(f"kept {home}")
    else:
        shutil.rmtree(home, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
