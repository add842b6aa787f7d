"""Start-up benchmark: time from start to ready, CPU to ready and resident memory of ``modelport serve`` against
the bare Starlette handler that loads the same joblib file (bench/bare_app.py), started in turn, several rounds.

Issue 4's target: start to ready within 1.5 s, one worker's RSS within 1.2x the bare handler's. Each server is
pinned to core 0 with one BLAS/OpenMP thread, as in bench/serving.py; "ready" is the first 200 from
``/health/ready``; CPU is user + system time of the server process at that moment (less disturbed than wall time
when other work shares the machine); RSS is read from /proc after 20 scoring requests.

    python bench/startup.py                      # 7 rounds, both models
    python bench/startup.py --rounds 3 --models tabular --json
    python bench/startup.py --onnx               # also each model's ONNX version (modelport optimize)

With ``--onnx``, each model is also converted by ``modelport optimize`` (which registers the ONNX version only when
it answers the same within its tolerance and is faster) and that version is started too, as "modelport onnx": it
loads without scikit-learn, which the other two servers spend most of their start-up importing.

Prints the medians (and every round with --json); writes the raw rounds to results/startup-<date>.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import httpx
import peers
from procmem import tree_memory

from serving import HERE, Server, baseline_servers, build_models, say, start, stop

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Round:
    model: str
    server: str
    round: int
    ready_s: float
    cpu_s: float
    rss_mb: float


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def measure(server: Server, model: str, number: int, scratch: Path) -> Round:
    running = start(server, scratch)
    try:
        cpu = cpu_seconds(running.process.pid)
        with httpx.Client(base_url=running.url, timeout=10) as client:
            for _ in range(20):
                client.post(server.score_path, json=server.body).raise_for_status()
        rss = sum(p.rss_mb for p in tree_memory(running.process.pid))
    finally:
        stop(running.process)
    return Round(model, server.name, number, round(running.startup_s, 3), round(cpu, 3), round(rss, 1))


def pinned(modelport: Server, version: str, label: str) -> Server:
    """The modelport line serving ``NAME:VERSION``, on a port of its own."""
    name = modelport.command[modelport.command.index("serve") + 1]
    command = [version if part == name else part for part in modelport.command]
    port = peers.free_port()
    command[command.index("--port") + 1] = str(port)
    return dataclasses.replace(modelport, name=label, command=command, port=port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="starts of each server per model")
    parser.add_argument("--models", default="tabular,faq", help="comma-separated, from: tabular, faq")
    parser.add_argument("--json", action="store_true", help="print every round as JSON")
    parser.add_argument(
        "--onnx", action="store_true", help="also start each model's ONNX version (needs the onnx extra)"
    )
    parser.add_argument("--out", type=Path, help="where to write the rounds (default: results/startup-DATE.json)")
    args = parser.parse_args(argv)
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    if not names or set(names) - {"tabular", "faq"}:
        parser.error("--models takes tabular and/or faq")

    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="modelport-startup-") as tmp:
        scratch = Path(tmp)
        models = {k: v for k, v in build_models(scratch).items() if k in names}
        from modelport import Workspace

        onnx: dict[str, tuple[str, str]] = {}  # name -> (the scikit-learn version, its ONNX version)
        with Workspace(scratch / "ws") as ws:
            for name, (fitted, row) in models.items():
                ws.models.register(
                    name, obj=fitted, sample_input={"data": row}, runtime_options={"method": "predict_proba"}
                )
                if args.onnx:
                    from modelport.optimize import optimize

                    report = optimize(ws, name)
                    if report.version is None:  # not equivalent, or not faster: no ONNX line for it
                        say(f"{name}: modelport optimize registered no ONNX version: {report.reason}")
                    else:
                        onnx[name] = (report.source, report.version)
        for name, (_, row) in models.items():
            servers = [s for s in baseline_servers(name, scratch, row, ["modelport", "bare"], []) if s.read_answer]
            if name in onnx:  # NAME alone would now serve the ONNX version, the newest: pin each
                source, version = onnx[name]
                servers = [
                    pinned(servers[0], source, "modelport"),
                    pinned(servers[0], version, "modelport onnx"),
                    *servers[1:],
                ]
            for number in range(1, args.rounds + 1):
                for server in servers:  # in turn, so that a busy spell of the machine hits both; each its own port
                    rounds.append(measure(server, name, number, scratch))
                    say(f"{name} {server.name} round {number}: ready {rounds[-1].ready_s:.3f} s")

    out = args.out or HERE / "results" / f"startup-{date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps([asdict(r) for r in rounds], indent=1) + "\n")
    if args.json:
        print(json.dumps([asdict(r) for r in rounds], indent=1))
        return 0
    print(f"\nmedians of {args.rounds} rounds, load average {os.getloadavg()[0]:.2f}")
    print("| model | server | start to ready s | vs bare | CPU to ready s | RSS MB | RSS vs bare |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name in models:
        medians = {}
        for server in ("modelport", "modelport onnx", "bare predict"):
            mine = [r for r in rounds if r.model == name and r.server == server]
            if not mine:  # no ONNX line for this model
                continue
            medians[server] = [statistics.median(getattr(r, k) for r in mine) for k in ("ready_s", "cpu_s", "rss_mb")]
        bare = medians["bare predict"]
        for server, (ready, cpu, rss) in medians.items():
            ratio = (f"{ready / bare[0]:.2f}x", f"{rss / bare[2]:.2f}x") if server != "bare predict" else ("", "")
            print(f"| {name} | {server} | {ready:.2f} | {ratio[0]} | {cpu:.2f} | {rss:.1f} | {ratio[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
