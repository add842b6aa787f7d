"""Scoring-server benchmark: modelport against a bare Starlette handler calling the model and a constant handler.

Method (issue 4's): the server pinned to core 0 with one worker (and one BLAS/OpenMP thread), ``wrk`` pinned to
core 1, one-row requests,
a warm-up then a measured run at each concurrency; every server's answer is first checked against in-process
``predict_proba``. Two models: "tabular" (LogisticRegression on 10 features) and "faq" (TF-IDF +
LogisticRegression over 50 classes of the FAQ questions).

    python bench/serving.py                       # 5 s warm-up + 15 s per run, concurrency 1 and 32
    python bench/serving.py --duration 5 --json   # shorter, machine-readable

Needs ``wrk`` and ``taskset`` (Debian: apt-get install wrk util-linux). Prints a table with ratios to the bare
lines and writes the raw results as JSON next to this file (results/serving-<date>.json).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import httpx
import joblib
import numpy as np
from sklearn.datasets import make_classification
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FAQ = ROOT / "examples" / "data" / "faq_questions.tsv"
# a level-1 long string: the JSON's own "]]" would end a plain [[...]]
LUA = 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [=[{body}]=]\n'


@dataclass
class Result:
    model: str
    server: str
    connections: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    rss_mb: float
    startup_s: float


def free_port() -> int:
    with socket.socket() as sock:  # only for the baselines' uvicorn, which cannot report a port 0 choice
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_models(folder: Path) -> dict[str, tuple[object, list[object]]]:
    """(fitted model, one request row) for each benchmark model, saved as joblib files in ``folder``."""
    x, y = make_classification(n_samples=2000, n_features=10, n_informative=6, random_state=0)
    tabular = LogisticRegression(max_iter=1000).fit(x, y)
    with open(FAQ, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))[:50]
    texts = [r["Text"] for r in rows] + [r["Text0"].split(". ")[0] for r in rows]
    labels = [r["Id"] for r in rows] * 2
    faq = make_pipeline(TfidfVectorizer(sublinear_tf=True), LogisticRegression(max_iter=1000)).fit(texts, labels)
    joblib.dump(tabular, folder / "tabular.joblib")
    joblib.dump(faq, folder / "faq.joblib")
    return {"tabular": (tabular, [x[0].round(6).tolist()]), "faq": (faq, ["how do I remove an element from an array"])}


def wait_ready(url: str, process: subprocess.Popen[bytes], started: float) -> float:
    with httpx.Client() as client:
        while time.monotonic() - started < 60:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                if client.get(f"{url}/health/ready").status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.01)
    raise RuntimeError("server not ready in 60 s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start(kind: str, model: str, workspace: Path, models: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    # one core each: BLAS and OpenMP get one thread, the same for every server
    threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    env = {**os.environ, **threads, "MODELPORT_HOME": str(workspace), "PYTHONUNBUFFERED": "1"}
    if kind == "modelport":
        command = [sys.executable, "-m", "modelport", "serve", model, "--port", str(port)]
    else:
        env["BENCH_MODEL"] = str(models / f"{model}.joblib") if kind == "bare predict" else "constant"
        env["BENCH_TEXT"] = "1" if model == "faq" else "0"
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--app-dir",
            str(HERE),
        ]
    started = time.monotonic()
    process = subprocess.Popen(
        ["taskset", "-c", "0", *command], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    return process, url, wait_ready(url, process, started)


def run_wrk(url: str, body: str, connections: int, seconds: float, script: Path) -> tuple[float, float, float, int]:
    script.write_text(LUA.format(body=body))
    command = [
        "taskset",
        "-c",
        "1",
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(script),
        f"{url}/score",
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def latency(pct: str) -> float:
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return rps, latency("50"), latency("99"), errors


def check_answer(url: str, kind: str, model: object, row: list[object]) -> None:
    answer = httpx.post(f"{url}/score", json={"data": row}, timeout=30).json()
    if kind == "bare constant":
        return
    expected = model.predict_proba(row if isinstance(row[0], str) else np.asarray(row))  # type: ignore[attr-defined]
    np.testing.assert_allclose(np.asarray(answer, dtype=float), expected, rtol=1e-9, atol=1e-12)


def in_process_us(model: object, row: list[object], repeat: int = 300) -> float:
    """Median time of one one-row ``predict_proba`` in this process, in microseconds."""
    data = row if isinstance(row[0], str) else np.asarray(row)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        model.predict_proba(data)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1e6)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up per run")
    parser.add_argument("--connections", default="1,32", help="comma-separated concurrencies")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is not installed (Debian: apt-get install wrk util-linux)")
    levels = [int(c) for c in args.connections.split(",")]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="modelport-bench-") as scratch:
        folder = Path(scratch)
        models = build_models(folder)
        for name, (fitted, row) in models.items():
            print(
                f"in-process predict_proba, one row, {name}: median {in_process_us(fitted, row):.0f} us",
                file=sys.stderr,
            )
        from modelport import Workspace

        with Workspace(folder / "ws") as ws:
            for name, (fitted, row) in models.items():
                ws.models.register(
                    name, obj=fitted, sample_input={"data": row}, runtime_options={"method": "predict_proba"}
                )
        for name, (fitted, row) in models.items():
            body = json.dumps({"data": row})
            for kind in ("modelport", "bare predict", "bare constant"):
                process, url, startup = start(kind, name, folder / "ws", folder)
                try:
                    check_answer(url, kind, fitted, row)
                    for connections in levels:
                        run_wrk(url, body, connections, args.warmup, folder / "post.lua")
                        rps, p50, p99, errors = run_wrk(url, body, connections, args.duration, folder / "post.lua")
                        results.append(
                            Result(
                                name,
                                kind,
                                connections,
                                round(rps, 1),
                                round(p50, 3),
                                round(p99, 3),
                                errors,
                                round(rss_mb(process.pid), 1),
                                round(startup, 3),
                            )
                        )
                        print(
                            f"{name:8} {kind:14} c={connections:<3} {rps:9.1f} req/s  p50 {p50:7.3f} ms  "
                            f"p99 {p99:7.3f} ms  errors {errors}",
                            file=sys.stderr,
                        )
                finally:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=30)
    out = HERE / "results" / f"serving-{date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=1))
        return 0
    columns = [
        "model",
        "server",
        "conc.",
        "req/s",
        "vs bare predict",
        "vs constant",
        "p50 ms",
        "p99 ms",
        "errors",
        "RSS MB",
        "start s",
    ]
    print("\n| " + " | ".join(columns) + " |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        base = {x.server: x for x in results if x.model == r.model and x.connections == r.connections}
        ratio = r.requests_per_s / base["bare predict"].requests_per_s
        const = r.requests_per_s / base["bare constant"].requests_per_s
        print(
            f"| {r.model} | {r.server} | {r.connections} | {r.requests_per_s:,.0f} | {ratio:.2f}x | {const:.2f}x | "
            f"{r.p50_ms:.3f} | {r.p99_ms:.3f} | {r.errors} | {r.rss_mb:.0f} | {r.startup_s:.2f} |"
        )
    print(f"\nraw results: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
