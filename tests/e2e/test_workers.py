"""``modelport serve --workers N``: several processes share the port; a worker that dies is replaced; SIGTERM to the
parent stops them all. An ONNX model (not fork-safe) is loaded again in each worker."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from modelport import Workspace

from .test_serve import STOPPED, start_server, stop


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(c) for c in text)
    return found


def _wait_children(pid: int, count: int, exclude: frozenset[int] = frozenset()) -> set[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = _children(pid) - exclude
        if len(children) >= count:
            return children
        time.sleep(0.05)
    raise AssertionError(f"expected {count} workers, found {_children(pid)}")


@pytest.mark.parametrize("framework", ["sklearn", "onnx"])
def test_workers_share_the_port_and_are_replaced(tmp_path: Path, framework: str) -> None:
    x = np.random.default_rng(3).random((50, 3)).astype(np.float32)
    model = LogisticRegression().fit(x, (x[:, 0] > 0.5).astype(int))
    with Workspace(tmp_path / "ws") as ws:
        if framework == "onnx":
            from skl2onnx import to_onnx

            ws.models.register(
                "m", obj=to_onnx(model, x[:1], options={"zipmap": False}), runtime_options={"outputs": ["label"]}
            )
        else:
            ws.models.register("m", obj=model)
    process, url = start_server(tmp_path / "ws", "m", "--workers", "2")
    try:
        workers = _wait_children(process.pid, 2)
        with httpx.Client(timeout=30) as client:

            def score() -> list[int]:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        answer = client.post(f"{url}/score", json={"data": x[:4].tolist()})
                        if answer.status_code == 200:
                            return list(answer.json())
                    except httpx.TransportError:
                        pass
                    assert time.monotonic() < deadline, "no answer"
                    time.sleep(0.05)

            assert score() == model.predict(x[:4]).tolist()
            victim = min(workers)
            os.kill(victim, signal.SIGKILL)
            replaced = _wait_children(process.pid, 2, exclude=frozenset({victim}))
            assert victim not in replaced and len(replaced) == 2
            for _ in range(10):
                assert score() == model.predict(x[:4]).tolist()
    finally:
        code = stop(process)
    assert code in STOPPED
    assert process.poll() is not None


def _sample(text: str, name: str, **labels: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    raise AssertionError(f"no sample {name} {labels} in:\n{text}")


def test_metrics_add_up_every_worker_whichever_answers(tmp_path: Path) -> None:
    x = np.random.default_rng(5).random((40, 3))
    with Workspace(tmp_path / "ws") as ws:
        ws.models.register("m", obj=LogisticRegression().fit(x, (x[:, 1] > 0.5).astype(int)))
    process, url = start_server(tmp_path / "ws", "m", "--workers", "2")
    try:
        workers = _wait_children(process.pid, 2)
        scored = 0
        with httpx.Client(timeout=30) as client:
            deadline = time.monotonic() + 30
            while scored < 40 and time.monotonic() < deadline:
                # a new connection each time: the kernel spreads them over both workers
                answer = httpx.post(f"{url}/score", json={"data": x[:2].tolist()}, timeout=30)
                scored += answer.status_code == 200
            assert scored == 40
            pages = [client.get(f"{url}/metrics", headers={"connection": "close"}).text for _ in range(6)]
            for page in pages:  # every page, whichever worker wrote it, counts every worker's requests
                assert _sample(page, "modelport_requests_total", route="score", status="200") == 40
                assert _sample(page, "modelport_ready") == 1
                assert _sample(page, "modelport_batch_size_count", model="m") >= 1
            os.kill(min(workers), signal.SIGKILL)  # its counts stay; its live gauges go
            _wait_children(process.pid, 2, exclude=frozenset({min(workers)}))
            page = client.get(f"{url}/metrics").text
            assert _sample(page, "modelport_requests_total", route="score", status="200") == 40
    finally:
        code = stop(process)
    assert code in STOPPED
