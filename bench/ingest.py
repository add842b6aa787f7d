"""Ingest benchmark: readings a second that ``modelport ingest`` makes durable, over MQTT (through the Mosquitto
broker on 127.0.0.1:1883) and over HTTP, one reading per message or request.

- mqtt: a publisher sends N messages with QoS 1 as fast as the broker takes them; measured from the first publish
  to the moment the ingester has accepted all N (each acknowledged only once it is in the fsynced log).
- http: C client threads POST one reading each, N in all, to a ``modelport ingest --http`` process; each ``200`` is
  sent once the reading is in the fsynced log.

The MQTT ingester runs in this process as ``modelport ingest`` runs it (the same ``Ingester`` and ``MqttSource``).
State folders are made beside the repository, on this machine's disk, whose fsync is what a reading costs (not in
/tmp, which may be memory).

    python bench/ingest.py                            # 2,000 messages and 2,000 requests at 16 connections
    python bench/ingest.py --messages 500 --connections 1,16

Prints a table and writes JSON to bench/results/ingest-<date>.json (--out picks another place).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt

from modelport.batch.ingest import Ingester, IngestSettings, wal
from modelport.batch.ingest.mqtt import MqttSource

HERE = Path(__file__).resolve().parent
BROKER = ("127.0.0.1", 1883)


def reading(n: int) -> bytes:
    """Distinct readings: 15 sensors, one every 5 s each, from 2018-08-28 23:00."""
    seconds = 5 * (n // 15)
    ts = f"2018-08-28 {23 + seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return orjson.dumps({"TS": ts, "Device": 1 + n % 15 // 5, "Tag": 1 + n % 5, "Value": float(n % 97)})


def make_ingester(folder: Path) -> Ingester:
    settings = IngestSettings(output=str(folder / "out"), state_dir=folder / "state", grace_s=10**6)
    return Ingester(settings)  # a grace of days: no window closes, so the fsyncs of the log are what is measured


def wait_accepted(ingester: Ingester, count: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while ingester.stats.accepted < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {ingester.stats.accepted} of {count} readings accepted in {timeout:.0f} s")
        time.sleep(0.002)


def fsync_ms(folder: Path, times: int = 300) -> float:
    """The median fsync of a one-line append on this disk: what a reading costs when each has its own."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "fsync-probe", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    spent = []
    try:
        for _ in range(times):
            os.write(fd, b"x" * 40 + b"\n")
            started = time.perf_counter()
            os.fsync(fd)
            spent.append(time.perf_counter() - started)
    finally:
        os.close(fd)
    return statistics.median(spent) * 1000


def run_mqtt(folder: Path, messages: int) -> dict[str, Any]:
    ingester = make_ingester(folder)
    fsyncs = [0]
    real_fsync = wal.os.fsync

    def counted(fd: int) -> None:
        fsyncs[0] += 1
        real_fsync(fd)

    wal.os.fsync = counted  # type: ignore[assignment]  # the log's fsyncs, counted
    client_id = f"bench-{uuid.uuid4().hex[:8]}"
    topic = f"bench/{client_id}/sensors"
    sync = getattr(ingester, "sync", None)
    if sync is not None and "sync" in inspect.signature(MqttSource).parameters:  # batches, one fsync for each
        source = MqttSource(
            f"mqtt://{BROKER[0]}:{BROKER[1]}",
            [f"bench/{client_id}/#"],
            client_id,
            lambda body, where: ingester.submit(body, where, sync=False).position,
            sync=sync,
        )
    else:  # the code before group commit: one fsync a message
        source = MqttSource(f"mqtt://{BROKER[0]}:{BROKER[1]}", [f"bench/{client_id}/#"], client_id, ingester.submit)
    source.start()
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{client_id}-pub")
    publisher.connect(*BROKER)
    publisher.loop_start()
    try:
        started = time.perf_counter()
        infos = [publisher.publish(topic, reading(n), qos=1) for n in range(messages)]
        wait_accepted(ingester, messages)
        seconds = time.perf_counter() - started
        for info in infos:
            info.wait_for_publish(timeout=10)
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        source.stop()
        ingester.close()
        wal.os.fsync = real_fsync  # type: ignore[assignment]
    return {"messages": messages, "seconds": seconds, "per_s": messages / seconds, "fsyncs": fsyncs[0]}


def run_http(folder: Path, requests: int, connections: int) -> dict[str, Any]:
    """``modelport ingest --http`` in its own process (the client threads here would take its GIL otherwise)."""
    command = [sys.executable, "-m", "modelport", "ingest", "--json", "--http", "127.0.0.1:0"]
    command += ["--output", str(folder / "out"), "--state", str(folder / "state"), "--grace", "30d"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=folder.parent)
    assert server.stdout is not None
    url = json.loads(server.stdout.readline())["http"]
    local = threading.local()

    def post(n: int) -> int:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, timeout=30)
        response = local.client.post("/readings", content=reading(n), headers={"Content-Type": "application/json"})
        return response.status_code

    try:
        with ThreadPoolExecutor(connections) as pool:
            list(pool.map(post, range(min(50, requests))))  # warm-up: connections open
            started = time.perf_counter()
            codes = list(pool.map(post, range(50, 50 + requests)))
            seconds = time.perf_counter() - started
        accepted = httpx.get(f"{url}/health").json()["accepted"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    errors = sum(c != 200 for c in codes)
    return {
        "requests": requests,
        "connections": connections,
        "seconds": seconds,
        "per_s": requests / seconds,
        "errors": errors,
        "accepted": accepted,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages",
        type=int,
        default=900,
        help="MQTT messages, and HTTP requests, per run (at most about 1,000: Mosquitto's default max_queued_messages "
        "drops QoS 1 messages past 1,000 queued for one client)",
    )
    parser.add_argument("--connections", default="16", help="comma-separated HTTP client threads")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    connections = [int(c) for c in args.connections.split(",")]
    results: dict[str, list[dict[str, Any]]] = {"mqtt": [], **{f"http c={c}": [] for c in connections}}
    with tempfile.TemporaryDirectory(prefix="modelport-bench-ingest-", dir=HERE.parent) as tmp:
        disk_ms = fsync_ms(Path(tmp) / "probe")
        print(f"this disk: {disk_ms:.2f} ms a fsync (median of 300)", flush=True)
        for repeat in range(args.repeat):
            folder = Path(tmp) / f"mqtt-{repeat}"
            results["mqtt"].append(run_mqtt(folder, args.messages))
            mqtt_run = results["mqtt"][-1]
            print(
                f"repeat {repeat + 1}: mqtt {mqtt_run['per_s']:,.0f} messages/s, {mqtt_run['fsyncs']} fsyncs",
                flush=True,
            )
            for c in connections:
                result = run_http(Path(tmp) / f"http-{c}-{repeat}", args.messages, c)
                results[f"http c={c}"].append(result)
                print(f"repeat {repeat + 1}: http c={c} {result['per_s']:,.0f} requests/s", flush=True)
    print(f"\n{args.messages} one-reading messages/requests per run, median of {args.repeat}; fsync {disk_ms:.2f} ms")
    print("| source | readings/s (median) | runs |")
    print("| --- | ---: | --- |")
    medians = {}
    for name, runs in results.items():
        values = sorted(r["per_s"] for r in runs)
        medians[name] = values[len(values) // 2]
        print(f"| {name} | {medians[name]:,.0f} | {', '.join(f'{v:,.0f}' for v in values)} |")
    out = Path(args.out) if args.out else HERE / "results" / f"ingest-{date.today()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "date": str(date.today()),
        "command": " ".join(["python", "bench/ingest.py", *sys.argv[1:]]),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "medians_per_s": medians,
        "runs": results,
    }
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
