"""Scoring-server benchmark: modelport against a bare Starlette handler calling the model, a constant handler, and
the peer servers (Azure ML inference server, MLServer, BentoML, MLflow, LitServe, Ray Serve).

Method (issue 4's): each server pinned to core 0 with one worker or replica (and one BLAS/OpenMP thread), ``wrk``
pinned to core 1, one-row requests, a warm-up then a measured run at each concurrency; every server's answer is first
checked against in-process ``predict_proba`` (a server that answers wrongly is reported, not measured). Two models:
"tabular" (LogisticRegression on 10 features) and "faq" (TF-IDF + LogisticRegression over 50 classes of the FAQ
questions). Each peer runs in its own virtualenv, bench/.venvs/<peer>/, made on first use (see bench/peers/).
The "modelport, ONNX version" line serves the version ``modelport optimize`` registers for each model (checked to
its tolerance, rtol 1e-4 / atol 1e-5, rather than to 1e-9); the "modelport" line serves the scikit-learn one.

    python bench/serving.py                                    # everything: 5 s warm-up + 15 s per run, c=1 and 32
    python bench/serving.py --servers modelport,bare,mlserver --models tabular --duration 5
    python bench/serving.py --install-only                     # just build the peers' virtualenvs

A full run at the defaults takes about 17 minutes on the project's 2-core machine once the virtualenvs exist
(11 servers x 2 models x 2 concurrencies x 20 s, plus about 2.5 minutes of start-ups, Ray's the longest); building
the six virtualenvs the first time adds a few minutes and about 3 GB of disk.

A last section serves modelport with ``--workers 1`` and ``2`` (pre-fork): the server may use cores 0-1 and wrk stays
on core 1, so with 2 workers wrk and the second worker share a core (2 cores are all there is); its throughput is a
lower bound of the scaling, and its point is the memory: PSS and USS per worker show the model pages shared after
the fork.

Needs ``wrk`` and ``taskset`` (Debian: apt-get install wrk util-linux). Prints a table with ratios to the bare
lines and writes the raw results as JSON next to this file (results/serving-<date>.json for a full run,
results/serving-<date>-partial.json for a partial or shortened one; --out picks another place).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import peers
from procmem import ProcessMemory, tree_memory
from sklearn.datasets import make_classification
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FAQ = ROOT / "examples" / "data" / "faq_questions.tsv"
# a level-1 long string: the JSON's own "]]" would end a plain [[...]]
LUA = 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [=[{body}]=]\n'
BASELINES = ("modelport", "onnx", "bare")  # onnx: the ONNX version `modelport optimize` registers
ONNX_LINE = "modelport, ONNX version"
WORKERS = "workers"  # the --servers name of the modelport --workers section
THREADS = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


@dataclass
class Result:
    model: str
    server: str
    connections: int
    requests_per_s: float | None
    p50_ms: float | None
    p99_ms: float | None
    errors: int | None
    rss_mb: float | None  # summed over the process tree (shared pages counted in each process)
    startup_s: float | None
    pss_mb: float | None = None  # summed over the process tree
    uss_mb: float | None = None  # summed over the process tree
    workers: int = 1
    server_cores: str = "0"
    status: str = "ok"  # or why it was not measured
    version: str = ""
    processes: list[ProcessMemory] = field(default_factory=list)


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    url: str
    startup_s: float
    log: Path


@dataclass
class Server:
    """What the suite runs and measures: a command, where to score, and how to read the answer."""

    name: str
    command: list[str]
    score_path: str
    body: dict[str, Any]
    read_answer: Callable[[Any], np.ndarray] | None  # None: the answer is not checked (the constant line)
    port: int
    ready_path: str = "/health/ready"
    ready_text: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    cores: str = "0"
    startup_timeout_s: float = 60.0
    workers: int = 1
    version: str = ""
    rtol: float = 1e-9  # how close its answer must be to in-process predict_proba
    atol: float = 1e-12


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


def log_tail(log: Path, lines: int = 3) -> str:
    try:
        text = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return " | ".join(text[-lines:])[-400:]


def wait_ready(server: Server, process: subprocess.Popen[bytes], started: float, log: Path) -> float:
    url = f"http://127.0.0.1:{server.port}{server.ready_path}"
    with httpx.Client(timeout=5) as client:
        while time.monotonic() - started < server.startup_timeout_s:
            if process.poll() is not None:
                raise RuntimeError(f"exited with {process.returncode} before ready: {log_tail(log)}")
            try:
                answer = client.get(url)
                if answer.status_code == 200 and (server.ready_text is None or server.ready_text in answer.text):
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    raise RuntimeError(f"not ready in {server.startup_timeout_s:.0f} s: {log_tail(log)}")


def start(server: Server, scratch: Path) -> Running:
    # one core each: BLAS and OpenMP get one thread, the same for every server
    env = {**os.environ, **THREADS, "PYTHONUNBUFFERED": "1", **server.env}
    log = scratch / f"{server.name.replace(' ', '-')}-{server.port}.log"
    started = time.monotonic()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            ["taskset", "-c", server.cores, *server.command],
            env=env,
            cwd=server.cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends whatever it started
        )
    try:
        startup = wait_ready(server, process, started, log)
    except BaseException:
        stop(process)
        raise
    return Running(process, f"http://127.0.0.1:{server.port}", startup, log)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (or SIGINT, which some CLIs handle more cleanly) to the server, then SIGKILL to what is left of its
    process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


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
        url,
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


def check_answer(server: Server, url: str, model: object, row: list[object]) -> None:
    """Raise AssertionError unless the server answers ``predict_proba`` of the row (to rtol 1e-9; an ONNX version to
    the tolerance ``modelport optimize`` checked it to)."""
    answer = httpx.post(f"{url}{server.score_path}", json=server.body, timeout=30)
    if answer.status_code != 200:
        raise AssertionError(f"HTTP {answer.status_code}: {answer.text[:200]}")
    if server.read_answer is None:
        return
    got = server.read_answer(answer.json())
    expected = model.predict_proba(row if isinstance(row[0], str) else np.asarray(row))  # type: ignore[attr-defined]
    np.testing.assert_allclose(got, expected, rtol=server.rtol, atol=server.atol)


def in_process_us(model: object, row: list[object], repeat: int = 300) -> float:
    """Median time of one one-row ``predict_proba`` in this process, in microseconds."""
    data = row if isinstance(row[0], str) else np.asarray(row)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        model.predict_proba(data)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1e6)


def baseline_servers(
    model: str, folder: Path, row: list[object], kinds: list[str], workers: list[int], onnx_version: str | None
) -> list[Server]:
    """modelport (and its ONNX version, when ``optimized`` registered one), the two bare lines and the modelport
    --workers section, as asked."""
    body = {"data": row}
    servers = []
    modelport_env = {"MODELPORT_HOME": str(folder / "ws")}
    serve = [sys.executable, "-m", "modelport", "serve"]
    modelport = [*serve, f"{model}:1", "--port"]  # 1: the scikit-learn version
    if "modelport" in kinds:
        port = peers.free_port()
        servers.append(
            Server("modelport", [*modelport, str(port)], "/score", body, peers.floats, port, env=modelport_env)
        )
    if "onnx" in kinds and onnx_version is not None:
        port = peers.free_port()
        command = [*serve, onnx_version, "--port", str(port)]
        servers.append(
            Server(ONNX_LINE, command, "/score", body, peers.floats, port, env=modelport_env, rtol=1e-4, atol=1e-5)
        )
    if "bare" in kinds:
        for kind in ("bare predict", "bare constant"):
            port = peers.free_port()
            env = {
                "BENCH_MODEL": str(folder / f"{model}.joblib") if kind == "bare predict" else "constant",
                "BENCH_TEXT": "1" if model == "faq" else "0",
            }
            uvicorn = [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port), "--no-access-log"]
            command = [*uvicorn, "--log-level", "warning", "--app-dir", str(HERE)]
            read = peers.floats if kind == "bare predict" else None
            servers.append(Server(kind, command, "/score", body, read, port, env=env))
    if WORKERS in kinds:
        for count in workers:
            port = peers.free_port()
            command = [*modelport, str(port), "--workers", str(count)]
            name = f"modelport --workers {count}"
            servers.append(
                Server(name, command, "/score", body, peers.floats, port, env=modelport_env, cores="0-1", workers=count)
            )
    return servers


def optimized(ws: Any, model: str) -> tuple[str | None, list[Result]]:
    """Register the model's ONNX version with ``modelport optimize``: its reference, or None and a result that says
    why it was refused (the ONNX line is then left out)."""
    from modelport.optimize import optimize

    report = optimize(ws, f"{model}:1", repeat=20, min_speedup=0.0)
    if report.refused or report.version is None:
        return None, [failed(model, ONNX_LINE, f"modelport optimize refused it: {report.reason}")]
    diff = report.equivalence.max_abs_diff if report.equivalence is not None else float("nan")
    say(f"{model}: modelport optimize registered {report.version} (ONNX; max abs diff {diff:.2g})")
    return report.version, []


def peer_server(peer: peers.Peer, venv: Path, scratch: Path, target: peers.Target) -> Server:
    folder = Path(tempfile.mkdtemp(prefix=f"{peer.name}-{target.name}-", dir=scratch))
    port = peers.free_port()
    launch = peer.prepare(venv, folder, target, port)
    return Server(
        peer.title,
        launch.command,
        launch.score_path,
        launch.body,
        peer.read_answer,
        port,
        ready_path=launch.ready_path,
        ready_text=launch.ready_text,
        env=launch.env,
        cwd=folder,
        startup_timeout_s=launch.startup_timeout_s,
        version=", ".join(peer.requirements),
    )


def measure(server: Server, model: str, fitted: object, row: list[object], scratch: Path, args: Any) -> list[Result]:
    levels = [int(c) for c in args.connections.split(",")]
    try:
        running = start(server, scratch)
    except Exception as exc:  # a peer that does not start is a row saying why, not a crash
        return [failed(model, server, f"did not start: {exc}")]
    try:
        try:
            check_answer(server, running.url, fitted, row)
        except Exception as exc:
            return [failed(model, server, f"wrong answer, not measured: {one_line(exc)}", running.startup_s)]
        results = []
        body = json.dumps(server.body)
        url = f"{running.url}{server.score_path}"
        for connections in levels:
            try:
                run_wrk(url, body, connections, args.warmup, scratch / "post.lua")
                rps, p50, p99, errors = run_wrk(url, body, connections, args.duration, scratch / "post.lua")
            except (subprocess.CalledProcessError, AttributeError) as exc:  # wrk failed, or printed no figures
                results.append(failed(model, server, f"wrk failed: {one_line(exc)}", running.startup_s, connections))
                continue
            memory = tree_memory(running.process.pid)  # taskset has exec'd the server: this is its own pid
            results.append(
                Result(
                    model,
                    server.name,
                    connections,
                    round(rps, 1),
                    round(p50, 3),
                    round(p99, 3),
                    errors,
                    round(sum(m.rss_mb for m in memory), 1),
                    round(running.startup_s, 3),
                    pss_mb=round(sum(m.pss_mb for m in memory), 1),
                    uss_mb=round(sum(m.uss_mb for m in memory), 1),
                    workers=server.workers,
                    server_cores=server.cores,
                    version=server.version,
                    processes=memory,
                )
            )
            say(
                f"{model:8} {server.name:26} c={connections:<3} {rps:9.1f} req/s  p50 {p50:7.3f} ms  "
                f"p99 {p99:7.3f} ms  errors {errors}  PSS {results[-1].pss_mb:.0f} MB in {len(memory)} process(es)"
            )
        return results
    finally:
        stop(running.process)


def failed(model: str, server: Server | str, why: str, startup: float | None = None, connections: int = 0) -> Result:
    name = server if isinstance(server, str) else server.name
    version = "" if isinstance(server, str) else server.version
    say(f"{model:8} {name:26} NOT MEASURED: {why}")
    return Result(model, name, connections, None, None, None, None, None, startup, status=why, version=version)


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:300] + "...") if len(text) > 300 else text


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(results: list[Result]) -> None:
    notes: list[str] = []  # why a server was not measured, numbered in the tables
    columns = ["model", "server", "conc.", "req/s", "vs bare predict", "vs constant", "p50 ms", "p99 ms", "errors"]
    columns += ["RSS MB", "PSS MB", "USS MB", "procs", "start s"]
    print("\n| " + " | ".join(columns) + " |")
    print("| --- | --- | " + " | ".join("---:" for _ in columns[2:]) + " |")
    for r in results:
        if r.workers != 1 or r.server_cores != "0":
            continue
        if r.status != "ok":
            notes.append(f"{r.model}, {r.server}: {r.status}")
            cells = [str(r.connections or "-"), f"not measured [{len(notes)}]", *("-" for _ in columns[4:])]
            print(f"| {r.model} | {r.server} | " + " | ".join(cells) + " |")
            continue
        base = {x.server: x.requests_per_s for x in results if x.model == r.model and x.connections == r.connections}
        ratios = [
            f"{r.requests_per_s / base[b]:.2f}x" if r.requests_per_s and base.get(b) else "n/a"
            for b in ("bare predict", "bare constant")
        ]
        print(
            f"| {r.model} | {r.server} | {r.connections} | {number(r.requests_per_s, ',.0f')} | {ratios[0]} | "
            f"{ratios[1]} | {number(r.p50_ms, '.3f')} | {number(r.p99_ms, '.3f')} | {r.errors} | "
            f"{number(r.rss_mb, '.0f')} | {number(r.pss_mb, '.0f')} | {number(r.uss_mb, '.0f')} | "
            f"{len(r.processes)} | {number(r.startup_s, '.2f')} |"
        )
    worker_rows = [r for r in results if r.server.startswith("modelport --workers")]
    if worker_rows:
        print_workers(worker_rows, notes)
    if notes:
        print("\nNot measured:\n")
        print("\n".join(f"{n}. {note}" for n, note in enumerate(notes, 1)))


def print_workers(worker_rows: list[Result], notes: list[str]) -> None:
    print(
        "\nmodelport --workers N, server on cores 0-1 and wrk on core 1 (they share it); PSS/USS of the parent and"
        " of each worker:\n"
    )
    columns = ["model", "workers", "conc.", "req/s", "vs 1 worker", "p50 ms", "p99 ms", "errors", "PSS MB", "USS MB"]
    columns += ["parent PSS/USS MB", "each worker PSS/USS MB"]
    print("| " + " | ".join(columns) + " |")
    print("| --- | " + " | ".join("---:" for _ in columns[1:]) + " |")
    for r in worker_rows:
        if r.status != "ok":
            notes.append(f"{r.model}, {r.server}: {r.status}")
            cells = [str(r.connections or "-"), f"not measured [{len(notes)}]", *("-" for _ in columns[4:])]
            print(f"| {r.model} | {r.workers} | " + " | ".join(cells) + " |")
            continue
        one = next(
            (x for x in worker_rows if x.model == r.model and x.connections == r.connections and x.workers == 1), None
        )
        ratio = (
            f"{r.requests_per_s / one.requests_per_s:.2f}x"
            if one and one.requests_per_s and r.requests_per_s
            else "n/a"
        )
        parent = r.processes[0] if r.processes else None
        children = r.processes[1:]
        each = ", ".join(f"{m.pss_mb:.0f}/{m.uss_mb:.0f}" for m in children) or "-"
        print(
            f"| {r.model} | {r.workers} | {r.connections} | {number(r.requests_per_s, ',.0f')} | {ratio} | "
            f"{number(r.p50_ms, '.3f')} | {number(r.p99_ms, '.3f')} | {r.errors} | {number(r.pss_mb, '.0f')} | "
            f"{number(r.uss_mb, '.0f')} | {f'{parent.pss_mb:.0f}/{parent.uss_mb:.0f}' if parent else '-'} | {each} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    everything = [*BASELINES, *peers.NAMES, WORKERS]
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up per run")
    parser.add_argument("--connections", default="1,32", help="comma-separated concurrencies")
    parser.add_argument(
        "--servers", default=",".join(everything), help=f"comma-separated, from: {', '.join(everything)}"
    )
    parser.add_argument("--models", default="tabular,faq", help="comma-separated, from: tabular, faq")
    parser.add_argument("--workers", default="1,2", help="worker counts of the modelport --workers section")
    parser.add_argument("--install-only", action="store_true", help="build the peers' virtualenvs and stop")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write the raw results (default: results/serving-DATE.json for a full run at the default "
        "durations, results/serving-DATE-partial.json otherwise, so that a quick run never replaces a full one)",
    )
    args = parser.parse_args(argv)
    kinds = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = sorted(set(kinds) - set(everything))
    if unknown:
        parser.error(f"unknown server(s) {', '.join(unknown)}; choose from {', '.join(everything)}")
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    if set(names) - {"tabular", "faq"}:
        parser.error("--models takes tabular and/or faq")
    worker_counts = [int(n) for n in args.workers.split(",")]
    for tool in () if args.install_only else ("wrk", "taskset"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is not installed (Debian: apt-get install wrk util-linux)")

    # every install first, so that no pip runs while something is measured
    venvs: dict[str, Path | str] = {}
    for name in (k for k in kinds if k in peers.NAMES):
        peer = peers.load(name)
        try:
            venvs[name] = peers.ensure_venv(peer, log=say)
            say(f"{name}: {', '.join(peer.requirements)} in {venvs[name]}; {peer.how}")
        except peers.PeerUnavailable as exc:
            venvs[name] = f"not installed: {exc}"
            say(f"{name}: NOT AVAILABLE, {venvs[name]}")
    if args.install_only:
        return 1 if any(isinstance(v, str) for v in venvs.values()) else 0

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="modelport-bench-") as tmp:
        scratch = Path(tmp)
        models = {k: v for k, v in build_models(scratch).items() if k in names}
        for name, (fitted, row) in models.items():
            say(f"in-process predict_proba, one row, {name}: median {in_process_us(fitted, row):.0f} us")
        onnx_versions: dict[str, str | None] = {}
        if {"modelport", "onnx", WORKERS} & set(kinds):
            from modelport import Workspace

            with Workspace(scratch / "ws") as ws:
                for name, (fitted, row) in models.items():
                    ws.models.register(
                        name, obj=fitted, sample_input={"data": row}, runtime_options={"method": "predict_proba"}
                    )
                    if "onnx" in kinds:
                        onnx_versions[name], refused = optimized(ws, name)
                        results += refused
        for name, (fitted, row) in models.items():
            target = peers.Target(name, scratch / f"{name}.joblib", row, isinstance(row[0], str))
            baselines = baseline_servers(name, scratch, row, kinds, worker_counts, onnx_versions.get(name))
            servers = [s for s in baselines if s.cores == "0"]
            for peer_name, venv in venvs.items():
                peer = peers.load(peer_name)
                if isinstance(venv, str):
                    results.append(failed(name, peer.title, venv))
                    continue
                try:
                    servers.append(peer_server(peer, venv, scratch, target))
                except Exception as exc:  # its files could not be written (MLflow saves its model with its venv)
                    results.append(failed(name, peer.title, f"could not prepare: {one_line(exc)}"))
            servers += [s for s in baselines if s.cores != "0"]
            for server in servers:
                results += measure(server, name, fitted, row, scratch, args)

    full = (
        set(kinds) == set(everything)
        and set(names) == {"tabular", "faq"}
        and (args.duration, args.warmup, args.connections) == (15.0, 5.0, "1,32")
    )
    suffix = "" if full else "-partial"
    out = args.out or HERE / "results" / f"serving-{date.today().isoformat()}{suffix}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=1))
        return 0
    print_table(results)
    out = out.resolve()
    print(f"\nraw results: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
