"""The FAQ example as a person and a V2 client meet it: trained, served by ``modelport serve``, its page on
``GET /score``, questions on ``POST /score`` and as an Open Inference Protocol BYTES input."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from modelport import Workspace

from .test_serve import STOPPED, start_server, stop

TRAIN = Path(__file__).resolve().parents[2] / "examples" / "faq" / "train.py"


@pytest.fixture(scope="module")
def faq_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("faq") / "ws"
    spec = importlib.util.spec_from_file_location("faq_train_e2e", TRAIN)
    assert spec is not None and spec.loader is not None
    train = importlib.util.module_from_spec(spec)
    sys.modules["faq_train_e2e"] = train
    spec.loader.exec_module(train)
    with Workspace(home) as ws:
        train.train(ws)
    sys.modules.pop("faq_train_e2e", None)
    process, url = start_server(home, "faq@production")
    yield url
    assert stop(process) in STOPPED


def test_the_page_and_the_answers(faq_url: str) -> None:
    page = httpx.get(f"{faq_url}/score")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<form" in page.text
    answer = httpx.post(f"{faq_url}/score", json={"question": "remove an element from an array", "top": 2})
    assert answer.status_code == 200
    matches = answer.json()["matches"]
    assert len(matches) == 2 and matches[0]["question"] == "Remove a particular element from an array in JavaScript?"
    bad = httpx.post(f"{faq_url}/score", json={"question": ""})
    assert bad.status_code == 400 and bad.json() == {"message": "'question' is empty"}


def test_a_question_as_an_open_inference_protocol_bytes_input(faq_url: str) -> None:
    http = pytest.importorskip("tritonclient.http")
    client = http.InferenceServerClient(url=faq_url.removeprefix("http://"))
    try:
        question = http.InferInput("question", [1], "BYTES")
        question.set_data_from_numpy(np.array(["remove an element from an array"], dtype=object), binary_data=False)
        result = client.infer("faq", [question], outputs=[http.InferRequestedOutput("matches", binary_data=False)])
        matches = [json.loads(m) for m in result.as_numpy("matches")]
        assert matches[0]["question"] == "Remove a particular element from an array in JavaScript?"
    finally:
        client.close()
