"""Where a scoring server's time goes: ``modelport serve`` under ``wrk``, sampled with py-spy, grouped.

The method of bench/serving.py (server on core 0, one BLAS thread; ``wrk -t1`` on core 1; one-row requests), with
py-spy recording the server while wrk loads it. Each sample is counted for the innermost of these groups that its
stack is in: the model (scikit-learn, numpy), the access log, Prometheus, batching, the rest of modelport's hot path,
uvicorn and the event loop. Needs py-spy (``pip install py-spy``; the ``dev`` extra has it), wrk and taskset.

    python bench/profile_serving.py                      # tabular, 32 connections, 8 s of samples
    python bench/profile_serving.py --model faq --connections 1 --raw prof.txt
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from serving import LUA, Server, baseline_servers, build_models, run_wrk, start, stop

# (group, what marks a frame of it): a sample goes to the group of its innermost marked frame
GROUPS = [
    ("the model (scikit-learn, numpy)", ("sklearn/", "numpy/", "narwhals", "scipy/")),
    ("the access log", ("serving/logs.py", "logging/")),
    ("Prometheus", ("prometheus_client", "serving/metrics.py")),
    ("batching: the queue, joining rows, cutting outputs", ("serving/batching.py", "codecs/batch.py")),
    ("the hot path: body, ids, checks, decode, encode", ("modelport/web/", "modelport/serving/", "modelport/codecs/")),
    ("the runtime's prepare and infer", ("modelport/runtimes/",)),
    ("uvicorn, asyncio, the event loop", ("uvicorn/", "asyncio/", "uvloop", "httptools")),
]
IDLE = ("_flush_periodically", "_worker (concurrent")  # threads that wait: the log flusher, idle predict threads


def group(stacks: Path) -> tuple[int, collections.Counter[str]]:
    """The number of samples and how many fell in each group, from py-spy's raw format (``stack count`` lines)."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or any(mark in stack for mark in IDLE):
            continue
        total += int(number)
        name = "other"
        for frame in reversed(stack.split(";")):
            found = next((g for g, marks in GROUPS if any(m in frame for m in marks)), None)
            if found is not None:
                name = found
                break
        counts[name] += int(number)
    return total, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tabular", choices=["tabular", "faq"])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of samples")
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw stacks in this file")
    args = parser.parse_args(argv)
    for tool in ("wrk", "taskset", "py-spy"):
        if shutil.which(tool) is None and not (Path(sys.executable).parent / tool).exists():
            parser.error(f"{tool} is not installed")
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    with tempfile.TemporaryDirectory(prefix="modelport-profile-") as scratch:
        folder = Path(scratch)
        models = build_models(folder)
        fitted, row = models[args.model]
        from modelport import Workspace

        with Workspace(folder / "ws") as ws:
            ws.models.register(
                args.model, obj=fitted, sample_input={"data": row}, runtime_options={"method": "predict_proba"}
            )
        server: Server = baseline_servers(args.model, folder, row, ["modelport"], [])[0]
        running = start(server, folder)
        try:
            body = json.dumps(server.body)
            run_wrk(running.url, body, args.connections, 3, folder / "post.lua")  # warm-up
            script = folder / "post.lua"
            script.write_text(LUA.format(body=body))
            load = subprocess.Popen(
                [
                    "taskset",
                    "-c",
                    "1",
                    "wrk",
                    "-t1",
                    f"-c{args.connections}",
                    f"-d{round(args.seconds) + 4}s",
                    "-s",
                    str(script),
                    running.url + server.score_path,
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(1)
            stacks = args.raw or folder / "stacks.txt"
            subprocess.run(
                [
                    spy,
                    "record",
                    "-r",
                    str(args.rate),
                    "-d",
                    str(round(args.seconds)),
                    "--format",
                    "raw",
                    "--nonblocking",
                    "-o",
                    str(stacks),
                    "--pid",
                    str(running.process.pid),
                ],
                check=True,
                capture_output=True,
            )
            out, _ = load.communicate()
            total, counts = group(stacks)
        finally:
            stop(running.process)
    rate = next((line.split()[-1] for line in out.splitlines() if line.startswith("Requests/sec")), "?")
    print(f"modelport serve {args.model}, wrk -c{args.connections}: {rate} req/s while sampled; {total} samples\n")
    print("| where | share |\n| --- | ---: |")
    for name, count in counts.most_common():
        print(f"| {name} | {100 * count / total:.1f}% |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
