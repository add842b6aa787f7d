"""End to end through a real socket: ``modelport serve`` in its own process, one shared by the tests of this module,
scored with ``modelport.ScoringClient``, ``modelport score``, plain HTTP and a real Open Inference Protocol client
(tritonclient); plus a server of its own to check that SIGTERM lets in-flight requests finish."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from modelport import ScoringClient, Workspace
from modelport.errors import InvalidInputError

URL_LINE = re.compile(r"at (http://\S+)")
IMPORT_LINE = re.compile(r"import time: +\d+ \| +\d+ \| +([\w.]+)$")
SLOW_SCRIPT = """
import json, time
def init():
    pass
def run(raw):
    time.sleep(json.loads(raw).get("sleep", 0))
    return {"slept": json.loads(raw).get("sleep", 0)}
"""


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPORT_")}
    env["MODELPORT_HOME"] = str(home)
    return env


def start_server(home: Path, *models: str, python: Sequence[str] = ()) -> tuple[subprocess.Popen[str], str]:
    """Start ``modelport serve --port 0`` (``python``: options of the interpreter) and return the process and the
    URL it printed; ``process.log`` collects what it writes on stderr."""
    process = subprocess.Popen(
        [sys.executable, *python, "-m", "modelport", "serve", *models, "--port", "0"],
        env=_env(home),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        if match := URL_LINE.search(line):
            log = seen
            process.log = log  # type: ignore[attr-defined]
            # keep draining the log, and keep it for the tests that read it
            threading.Thread(target=log.extend, args=(process.stderr,), daemon=True).start()
            url = match.group(1)
            with httpx.Client() as client:
                while time.monotonic() < deadline and client.get(f"{url}/health/ready").status_code != 200:
                    time.sleep(0.05)
            return process, url
    process.kill()
    raise AssertionError("the server did not start:\n" + "".join(seen))


def stop(process: subprocess.Popen[str]) -> int:
    """SIGTERM the server and wait for it; uvicorn drains, then re-raises the signal, so the code is -SIGTERM."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    finally:
        if process.stderr is not None:
            process.stderr.close()


STOPPED = (0, -signal.SIGTERM)


_SERVERS: dict[str, subprocess.Popen[str]] = {}


def _server_log(url: str) -> list[str]:
    return list(getattr(_SERVERS[url], "log", []))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, LogisticRegression, np.ndarray, Path]]:
    home = tmp_path_factory.mktemp("serve") / "ws"
    rng = np.random.default_rng(1)
    x = rng.random((80, 4))
    model = LogisticRegression().fit(x, (x[:, 0] + x[:, 1] > 1).astype(int))
    script = home.parent / "slow.py"
    script.write_text(SLOW_SCRIPT)
    (home.parent / "empty").mkdir()
    (home.parent / "empty" / "README").write_text("no model files: the script is the model")
    with Workspace(home) as ws:
        ws.models.register("clf", obj=model, sample_input={"data": x[:2].tolist()})
        ws.models.register("slow", home.parent / "empty", framework="custom", entry_script=script)
    process, url = start_server(home, "clf", "slow")
    _SERVERS[url] = process
    yield url, model, x, home
    assert stop(process) in STOPPED


def test_scoring_client_and_curl_style_http(served: tuple[str, LogisticRegression, np.ndarray, Path]) -> None:
    url, model, x, _ = served
    with ScoringClient(url) as client:
        assert client.ready()
        assert client.score({"data": x[:5].tolist()}, model="clf") == model.predict(x[:5]).tolist()
        with pytest.raises(InvalidInputError, match="expects 4 per row"):
            client.score({"data": [[1.0, 2.0]]}, model="clf")
        assert client.swagger()["swagger"] == "2.0"
    response = httpx.post(f"{url}/score", json={"data": x[:1].tolist()}, headers={"x-request-id": "abc-123"})
    assert response.status_code == 400 and "/models/clf/score" in response.json()["message"]
    assert response.headers["x-request-id"] == "abc-123"


def test_modelport_score_command(served: tuple[str, LogisticRegression, np.ndarray, Path], tmp_path: Path) -> None:
    url, model, x, home = served
    payload = tmp_path / "in.json"
    payload.write_text(json.dumps({"data": x[:3].tolist()}))
    done = subprocess.run(
        [sys.executable, "-m", "modelport", "score", url, "--model", "clf", "--input", str(payload), "--json"],
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == model.predict(x[:3]).tolist()
    bad = subprocess.run(
        [sys.executable, "-m", "modelport", "score", url, "--model", "nope", "--input", str(payload)],
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=60,
    )
    assert bad.returncode == 1 and "no model named 'nope'" in bad.stderr


def test_open_inference_protocol_with_tritonclient(served: tuple[str, LogisticRegression, np.ndarray, Path]) -> None:
    http = pytest.importorskip("tritonclient.http")
    url, model, x, _ = served
    client = http.InferenceServerClient(url=url.removeprefix("http://"))
    try:
        assert client.is_server_live() and client.is_server_ready() and client.is_model_ready("clf")
        metadata = client.get_model_metadata("clf")
        assert metadata["name"] == "clf" and metadata["inputs"][0]["shape"] == [-1, 4]
        for binary in (False, True):  # plain JSON, and the binary tensor extension tritonclient uses by default
            tensor = http.InferInput("input", [3, 4], "FP64")
            tensor.set_data_from_numpy(x[:3], binary_data=binary)
            result = client.infer(
                "clf", [tensor], outputs=[http.InferRequestedOutput("output-0", binary_data=binary)], request_id="r1"
            )
            np.testing.assert_array_equal(result.as_numpy("output-0"), model.predict(x[:3]))
            assert result.get_response()["id"] == "r1"
    finally:
        client.close()


def test_slow_requests_do_not_block_others(served: tuple[str, LogisticRegression, np.ndarray, Path]) -> None:
    url, _, x, _ = served
    with httpx.Client(timeout=30) as client:
        started = time.monotonic()
        slow = threading.Thread(
            target=client.post, args=(f"{url}/models/slow/score",), kwargs={"content": b'{"sleep": 1.0}'}
        )
        slow.start()
        time.sleep(0.1)
        fast = client.post(f"{url}/models/clf/score", json={"data": x[:1].tolist()})
        fast_done = time.monotonic() - started
        slow.join()
    assert fast.status_code == 200 and fast_done < 1.0


def test_sigterm_lets_in_flight_requests_finish(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    script = tmp_path / "slow.py"
    script.write_text(SLOW_SCRIPT)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "README").write_text("the script is the model")
    with Workspace(home) as ws:
        ws.models.register("slow", tmp_path / "m", framework="custom", entry_script=script)
    process, url = start_server(home, "slow")
    answers: list[httpx.Response] = []
    worker = threading.Thread(
        target=lambda: answers.append(httpx.post(f"{url}/score", content=b'{"sleep": 1.0}', timeout=30))
    )
    worker.start()
    time.sleep(0.3)
    assert stop(process) in STOPPED
    worker.join()
    assert answers and answers[0].status_code == 200 and answers[0].json() == {"slept": 1.0}


def test_the_server_of_a_sqlite_workspace_never_imports_the_orm(tmp_path: Path) -> None:
    """``modelport serve`` reads its models straight from the SQLite file (``registry.catalog``): SQLAlchemy and
    Alembic (about 20 MB and 0.2 s of start-up) stay out of the serving process, as ``python -X importtime`` shows
    for its whole life: start-up, loading, a request, shutdown."""
    x = np.random.default_rng(3).random((40, 2))
    model = LogisticRegression().fit(x, (x[:, 0] > 0.5).astype(int))
    home = tmp_path / "ws"
    with Workspace(home) as ws:
        ws.models.register("clf", obj=model)
        ws.models.set_alias("clf", "production", 1)
    process, url = start_server(home, "clf@production", python=["-X", "importtime"])
    try:
        answer = httpx.post(f"{url}/score", json={"data": x[:3].tolist()})
        assert answer.status_code == 200 and answer.json() == model.predict(x[:3]).tolist()
    finally:
        assert stop(process) in STOPPED
    imported = {m.group(1) for line in process.log if (m := IMPORT_LINE.search(line.rstrip()))}
    assert {"sklearn", "uvicorn", "modelport.registry.catalog"} <= imported  # the log does list the imports
    heavy = {"sqlalchemy", "alembic", "modelport.registry.workspace", "modelport.registry.db"}
    assert sorted(heavy & imported) == []
    # the CLI loads only the command it runs (cli.app.COMMANDS): not the other commands' modules, which import
    # these (importtime does not list a module that importlib.import_module loads, only what it imports)
    others = {"modelport.cli._runs", "modelport.optimize", "modelport.registry.frameworks"}
    assert sorted(others & imported) == [] and "modelport.serving" in imported


def test_a_model_that_cannot_load_stops_the_server_with_its_reason(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    script = tmp_path / "broken.py"
    script.write_text("def init():\n    raise RuntimeError('the weights are missing')\ndef run(raw):\n    return raw\n")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "README").write_text("x")
    with Workspace(home) as ws:
        ws.models.register("broken", tmp_path / "m", framework="custom", entry_script=script)
    done = subprocess.run(
        [sys.executable, "-m", "modelport", "serve", "broken", "--port", "0"],
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=60,
    )
    assert done.returncode == 1
    assert "init() of broken.py raised RuntimeError: the weights are missing" in done.stderr


def test_access_logs_are_json_lines_with_the_request_id(
    served: tuple[str, LogisticRegression, np.ndarray, Path],
) -> None:
    url, _, x, _ = served
    httpx.post(f"{url}/models/clf/score", json={"data": x[:1].tolist()}, headers={"x-request-id": "trace-me-42"})
    deadline = time.monotonic() + 10
    entry = None
    while entry is None and time.monotonic() < deadline:
        process_logs = [json.loads(line) for line in _server_log(url) if line.startswith("{")]
        entry = next(
            (e for e in process_logs if e.get("request_id") == "trace-me-42" and e.get("logger") == "modelport.access"),
            None,
        )
        time.sleep(0.05)
    assert entry is not None
    assert entry["model"] == "clf" and entry["version"] == 1 and entry["status"] == 200
    assert entry["method"] == "POST" and entry["path"] == "/models/clf/score" and entry["duration_ms"] > 0


def test_batching_flags_of_serve(tmp_path: Path) -> None:
    """``--no-batching`` scores each request on its own; ``--max-batch-size`` bounds the rows of one call."""
    x = np.random.default_rng(2).random((30, 2))
    with Workspace(tmp_path / "ws") as ws:
        ws.models.register("m", obj=LogisticRegression().fit(x, (x[:, 0] > 0.5).astype(int)))

    def batch_calls(*flags: str) -> dict[float, float]:
        from prometheus_client.parser import text_string_to_metric_families

        process, url = start_server(tmp_path / "ws", "m", *flags)
        try:

            def one(i: int) -> None:
                assert httpx.post(f"{url}/score", json={"data": x[i : i + 3].tolist()}, timeout=30).status_code == 200

            threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            text = httpx.get(f"{url}/metrics").text
        finally:
            assert stop(process) in STOPPED
        buckets: dict[float, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "modelport_batch_size_bucket":
                    buckets[float(sample.labels["le"])] = sample.value
        return buckets

    assert batch_calls("--no-batching") == {}  # no batcher: nothing observed
    bounded = batch_calls("--max-batch-size", "4")
    assert bounded[float("inf")] == 12  # 3 rows a request, at most 4 rows a call: one request a call
    assert bounded[4.0] == bounded[float("inf")]


def test_concurrent_requests_through_the_socket_each_get_their_own_answer(
    served: tuple[str, LogisticRegression, np.ndarray, Path],
) -> None:
    """Many clients at once, each with rows of its own, through uvicorn, the hot path and the batcher: every answer is
    what the model says for exactly that request's rows."""
    url, model, x, _ = served
    sizes = [1 + i % 4 for i in range(64)]
    requests = [x[i % 70 : i % 70 + size] for i, size in enumerate(sizes)]
    answers: list[object] = [None] * len(requests)

    def client(i: int) -> None:
        with httpx.Client(timeout=30) as http:
            for _ in range(3):  # three rounds on one connection each, so that requests overlap
                answers[i] = http.post(f"{url}/models/clf/score", json={"data": requests[i].tolist()}).json()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for request, answer in zip(requests, answers, strict=True):
        assert answer == model.predict(request).tolist()
    page = httpx.get(f"{url}/metrics").text
    assert "modelport_batch_size_bucket" in page
