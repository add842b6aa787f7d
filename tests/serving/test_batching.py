"""Adaptive batching: concurrent requests of different sizes scored together, each getting exactly its own rows; a bad
request failing alone; timeouts and back-pressure; the per-model and per-server settings."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from modelport import InvalidInputError, Workspace
from modelport.errors import ScoringTimeoutError, UnavailableError
from modelport.serving import InferenceService, ServingSettings


class SlowModel:
    """Doubles its input, taking ``seconds`` per call (not per row): a model that gains from batching."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls: list[int] = []

    def predict(self, x: Any) -> Any:
        time.sleep(self.seconds)
        return np.asarray(x, dtype=float)[:, 0] * 2


class Summing:
    """Answers one number for the whole input: not one row per input row, so it cannot be batched."""

    def predict(self, x: Any) -> Any:
        return np.asarray(x, dtype=float).sum()


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(400, 4)).round(4)


@pytest.fixture(scope="module")
def classifier(rows: np.ndarray) -> Any:
    return LogisticRegression().fit(rows, (rows[:, 0] - rows[:, 2] > 0).astype(int))


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory, classifier: Any) -> Iterator[Workspace]:
    workspace = Workspace(tmp_path_factory.mktemp("ws") / "ws")
    workspace.models.register("clf", obj=classifier, runtime_options={"method": "predict_proba"})
    workspace.models.register("pairs", obj=classifier, runtime_options={"max_batch_size": 2})
    workspace.models.register("alone", obj=classifier, runtime_options={"batching": False})
    workspace.models.register("slow", obj=SlowModel(0.05))
    workspace.models.register("sum", obj=Summing())
    frame = {"color": ["red", "blue", "red", "green"], "size": [1.0, 2.0, 3.0, 4.0]}
    import pandas as pd

    encoded = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="error"), ["color"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(pd.DataFrame(frame), [0, 1, 0, 1])
    workspace.models.register("colors", obj=encoded)
    yield workspace
    workspace.close()


def _service(ws: Workspace, *refs: str, **settings: Any) -> InferenceService:
    service = InferenceService(ws, list(refs), ServingSettings(**settings))
    service.load()
    return service


def _batch_sizes(service: InferenceService) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of the batch-size histogram's buckets."""
    text = service.metrics.render().decode()
    family = next(f for f in text_string_to_metric_families(text) if f.name == "modelport_batch_size")
    return [(float(s.labels["le"]), s.value) for s in family.samples if s.name.endswith("_bucket")]


async def _gather(service: InferenceService, name: str, payloads: list[Any]) -> list[Any]:
    model = service.resolve(name)
    return await asyncio.gather(*(service.predict(model, p) for p in payloads), return_exceptions=True)


@pytest.mark.parametrize("inline_below_ms", [0.0, 5.0])  # every batch on a thread; fast batches on the loop
def test_concurrent_requests_of_different_sizes_get_exactly_their_own_rows(
    ws: Workspace, classifier: Any, rows: np.ndarray, inline_below_ms: float
) -> None:
    service = _service(ws, "clf", inline_below_ms=inline_below_ms)
    sizes = np.random.default_rng(5).integers(1, 7, size=150)
    bounds = np.cumsum([0, *sizes]) % (len(rows) - 7)
    requests = [rows[start : start + size] for start, size in zip(bounds, sizes, strict=False)]
    try:
        answers = asyncio.run(_gather(service, "clf", [{"data": r.tolist()} for r in requests]))
    finally:
        service.close()
    for request, answer in zip(requests, answers, strict=True):
        assert not isinstance(answer, BaseException), answer
        assert answer.shape == (len(request), 2)
        # the same rows scored alone, in-process: equal to the last bit or, where BLAS takes another kernel for a
        # larger matrix, within one unit in the last place
        np.testing.assert_allclose(answer, classifier.predict_proba(request), rtol=1e-15, atol=1e-15)
    buckets = dict(_batch_sizes(service))
    calls = buckets[float("inf")]
    assert calls < len(requests) / 4  # far fewer calls than requests: they were batched
    assert buckets[8.0] < calls  # some batches held more than 8 rows...
    assert buckets[64.0] == calls  # ...and none more than max_batch_size (64 by default)


def test_a_bad_request_fails_alone(ws: Workspace, classifier: Any, rows: np.ndarray) -> None:
    service = _service(ws, "clf")
    good = [{"data": rows[i : i + 2].tolist()} for i in range(10)]
    bad = {"data": [[1.0, 2.0]]}  # two values per row; the model takes four
    try:
        answers = asyncio.run(_gather(service, "clf", [*good[:5], bad, *good[5:]]))
    finally:
        service.close()
    assert isinstance(answers[5], InvalidInputError)
    assert "2 values" in str(answers[5]) or "features" in str(answers[5])
    for payload, answer in zip(good, answers[:5] + answers[6:], strict=True):
        np.testing.assert_allclose(answer, classifier.predict_proba(np.asarray(payload["data"])), rtol=1e-15)


def test_a_request_the_model_rejects_inside_a_batch_fails_alone(ws: Workspace) -> None:
    """A value only the model can judge (a colour its encoder never saw) passes the checks and shares a batch; the
    batch fails, its requests are scored again one by one, and only that one gets the error."""
    service = _service(ws, "colors")
    good = [{"data": [{"color": c, "size": float(i)}]} for i, c in enumerate(["red", "blue", "green"] * 4)]
    bad = {"data": [{"color": "purple", "size": 1.0}]}
    try:
        answers = asyncio.run(_gather(service, "colors", [*good[:6], bad, *good[6:]]))
        alone = [service.models[0].runtime.predict(p) for p in good]
    finally:
        service.close()
    assert isinstance(answers[6], InvalidInputError)
    assert "rejected the input" in str(answers[6])
    for expected, answer in zip(alone, answers[:6] + answers[7:], strict=True):
        np.testing.assert_array_equal(answer, expected)


def test_a_model_gaining_from_batches_is_called_once_per_batch(ws: Workspace) -> None:
    service = _service(ws, "slow")
    payloads = [{"data": [[float(i), 0.0]]} for i in range(20)]
    try:
        answers = asyncio.run(_gather(service, "slow", payloads))
    finally:
        service.close()
    assert [a.tolist() for a in answers] == [[2.0 * i] for i in range(20)]
    calls = dict(_batch_sizes(service))[float("inf")]
    assert calls <= 3  # all together, or the first alone and then the rest (not 20 calls of 50 ms)


def test_a_model_answering_one_value_for_a_batch_is_no_longer_batched(ws: Workspace) -> None:
    service = _service(ws, "sum")
    payloads = [{"data": [[float(i), 1.0]]} for i in range(8)]
    try:
        answers = asyncio.run(_gather(service, "sum", payloads))
        assert service.models[0].batcher is not None
        assert not service.models[0].batcher.splittable
    finally:
        service.close()
    assert [float(a) for a in answers] == [i + 1.0 for i in range(8)]


def test_batches_wait_up_to_max_latency_ms_for_more_rows(ws: Workspace) -> None:
    service = _service(ws, "slow", max_latency_ms=100)

    async def staggered() -> list[Any]:
        model = service.resolve("slow")
        first = asyncio.ensure_future(service.predict(model, {"data": [[1.0, 0.0]]}))
        await asyncio.sleep(0.03)  # arrives while the first waits for company
        second = asyncio.ensure_future(service.predict(model, {"data": [[2.0, 0.0]]}))
        return list(await asyncio.gather(first, second))

    try:
        started = time.perf_counter()
        answers = asyncio.run(staggered())
        seconds = time.perf_counter() - started
    finally:
        service.close()
    assert [a.tolist() for a in answers] == [[2.0], [4.0]]
    assert dict(_batch_sizes(service))[float("inf")] == 1  # one call for both
    assert seconds >= 0.1


def test_a_full_batch_does_not_wait_for_max_latency(ws: Workspace) -> None:
    service = _service(ws, "slow", max_latency_ms=5000, max_batch_size=4)
    try:
        started = time.perf_counter()
        answers = asyncio.run(_gather(service, "slow", [{"data": [[float(i), 0.0]]} for i in range(4)]))
        seconds = time.perf_counter() - started
    finally:
        service.close()
    assert [a.tolist() for a in answers] == [[0.0], [2.0], [4.0], [6.0]]
    assert seconds < 5


def test_per_model_options_win_over_the_server_settings(ws: Workspace, classifier: Any, rows: np.ndarray) -> None:
    service = _service(ws, "pairs", "alone", "clf", max_batch_size=32, max_latency_ms=1)
    try:
        pairs, alone, clf = service.models
        assert pairs.batcher is not None and pairs.batcher.policy.max_batch_size == 2
        assert pairs.batcher.policy.max_latency_ms == 1
        assert alone.batcher is None
        assert clf.batcher is not None and clf.batcher.policy.max_batch_size == 32
        answers = asyncio.run(_gather(service, "pairs", [{"data": [r.tolist()]} for r in rows[:9]]))
        scored = asyncio.run(_gather(service, "alone", [{"data": [r.tolist()]} for r in rows[:3]]))
    finally:
        service.close()
    assert [int(a[0]) for a in answers] == classifier.predict(rows[:9]).tolist()
    assert [int(a[0]) for a in scored] == classifier.predict(rows[:3]).tolist()
    sizes = _batch_sizes(service)
    assert dict(sizes)[2.0] == sizes[-1][1]  # no batch of "pairs" over 2 rows


def test_serving_options_are_checked(ws: Workspace) -> None:
    with pytest.raises(InvalidInputError, match="option 'max_batch_size' of the sklearn runtime must be a int"):
        ws.models.load("clf", max_batch_size="many")
    service = InferenceService(ws, ["clf"], options={"max_batch_size": 0})
    with pytest.raises(InvalidInputError, match="max_batch_size must be at least 1 and max_latency_ms at least 0"):
        service.load()
    service.close()


def test_a_batch_over_the_timeout_fails_with_a_timeout(ws: Workspace) -> None:
    service = _service(ws, "slow", scoring_timeout_s=0.01, inline_below_ms=0)
    try:
        answers = asyncio.run(_gather(service, "slow", [{"data": [[1.0, 0.0]]}] * 3))
    finally:
        service.close()
    assert all(isinstance(a, ScoringTimeoutError) for a in answers), answers
    assert "took longer than 0.01 s" in str(answers[0])


def test_requests_past_max_waiting_are_refused_with_retry_after(ws: Workspace) -> None:
    service = _service(ws, "slow", max_waiting=5)
    try:
        answers = asyncio.run(_gather(service, "slow", [{"data": [[1.0, 0.0]]}] * 12))
    finally:
        service.close()
    refused = [a for a in answers if isinstance(a, UnavailableError)]
    assert len(refused) == 7
    assert all(a.retry_after == 1 for a in refused)
    assert "5 requests are already waiting" in str(refused[0])
    assert [a.tolist() for a in answers if not isinstance(a, BaseException)] == [[2.0]] * 5
    assert service.waiting == 0


def test_over_http_back_pressure_is_a_503_with_retry_after_and_a_slow_batch_a_504(ws: Workspace) -> None:
    """The same limits through the scoring app (the hot path): the status codes and headers clients see."""
    import httpx

    from modelport.web import create_scoring_app

    async def scenario(**settings: Any) -> list[httpx.Response]:
        service = _service(ws, "slow", **settings)
        transport = httpx.ASGITransport(app=create_scoring_app(service))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return list(
                    await asyncio.gather(*(client.post("/score", json={"data": [[float(i), 0.0]]}) for i in range(6)))
                )
        finally:
            service.close()

    busy = asyncio.run(scenario(max_waiting=2))
    assert sorted(r.status_code for r in busy) == [200, 200, 503, 503, 503, 503]
    refused = next(r for r in busy if r.status_code == 503)
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["code"] == "unavailable"
    served = [r.json() for r in busy if r.status_code == 200]
    assert all(len(answer) == 1 for answer in served)  # each its own row back

    late = asyncio.run(scenario(scoring_timeout_s=0.01, inline_below_ms=0))
    assert {r.status_code for r in late} == {504}
    assert late[0].json()["code"] == "timeout"


def _other_runtimes(ws: Workspace, rows: np.ndarray, classifier: Any) -> list[str]:
    """LightGBM, XGBoost and ONNX (several outputs, a dict per request) versions of one problem, registered."""
    import lightgbm as lgb
    import xgboost as xgb
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    labels = (rows[:, 0] - rows[:, 2] > 0).astype(int)
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1, "num_threads": 1, "seed": 1}
    ws.models.register("lgb", obj=lgb.train(params, lgb.Dataset(rows, labels), num_boost_round=5))
    booster = xgb.train({"max_depth": 2, "nthread": 1}, xgb.DMatrix(rows, labels), num_boost_round=5)
    ws.models.register("xgb", obj=booster)
    onnx = convert_sklearn(
        classifier, initial_types=[("input", FloatTensorType([None, 4]))], options={"zipmap": False}, target_opset=17
    )
    ws.models.register("onnx", obj=onnx)
    return ["lgb", "xgb", "onnx"]


def test_boosters_and_onnx_are_batched_with_each_request_getting_its_own_rows(
    ws: Workspace, rows: np.ndarray, classifier: Any
) -> None:
    names = _other_runtimes(ws, rows, classifier)
    service = _service(ws, *names)
    sizes = [1, 3, 2, 5, 1, 4] * 5
    bounds = np.cumsum([0, *sizes])
    requests = [rows[start:end] for start, end in itertools.pairwise(bounds)]
    try:
        for name in names:
            runtime = service.resolve(name).runtime
            assert runtime.batchable
            answers = asyncio.run(_gather(service, name, [{"data": r.tolist()} for r in requests]))
            for request, answer in zip(requests, answers, strict=True):
                alone = runtime.predict({"data": request.tolist()})
                if isinstance(alone, dict):  # ONNX with two outputs: each output cut to the request's rows
                    assert set(answer) == set(alone) == {"label", "probabilities"}
                    for key in alone:
                        np.testing.assert_allclose(answer[key], alone[key], rtol=1e-6)
                else:
                    np.testing.assert_allclose(answer, alone, rtol=1e-12)
                    assert len(answer) == len(request)
    finally:
        service.close()
    assert dict(_batch_sizes(service))[float("inf")] < len(requests)  # 90 requests in all, in far fewer calls


def test_an_onnx_model_with_a_fixed_batch_of_one_is_not_batched(ws: Workspace, classifier: Any) -> None:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    onnx = convert_sklearn(
        classifier, initial_types=[("input", FloatTensorType([1, 4]))], options={"zipmap": False}, target_opset=17
    )
    ws.models.register("onnx-one", obj=onnx)
    service = _service(ws, "onnx-one")
    try:
        model = service.resolve("onnx-one")
        assert not model.runtime.batchable and model.batcher is None
        answers = asyncio.run(_gather(service, "onnx-one", [{"data": [[0.1, 0.2, 0.3, 0.4]]}] * 3))
    finally:
        service.close()
    assert all(set(a) == {"label", "probabilities"} for a in answers)


def test_concurrent_v2_infer_requests_are_batched_and_answered_each_with_its_rows(
    ws: Workspace, classifier: Any, rows: np.ndarray
) -> None:
    import httpx

    from modelport.web import create_scoring_app

    sizes = [1, 4, 2, 7, 3] * 6
    bounds = np.cumsum([0, *sizes])
    requests = [rows[start:end] for start, end in itertools.pairwise(bounds)]

    async def scenario(service: InferenceService) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_scoring_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return list(
                await asyncio.gather(
                    *(
                        client.post(
                            "/v2/models/clf/infer",
                            json={
                                "id": f"r{i}",
                                "inputs": [
                                    {"name": "input", "shape": list(r.shape), "datatype": "FP64", "data": r.tolist()}
                                ],
                            },
                        )
                        for i, r in enumerate(requests)
                    )
                )
            )

    service = _service(ws, "clf")
    try:
        answers = asyncio.run(scenario(service))
    finally:
        service.close()
    for i, (request, response) in enumerate(zip(requests, answers, strict=True)):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["id"] == f"r{i}"
        (output,) = body["outputs"]
        assert output["shape"] == [len(request), 2]
        expected = classifier.predict_proba(request).ravel()
        np.testing.assert_allclose(output["data"], expected, rtol=1e-15, atol=1e-15)
    assert dict(_batch_sizes(service))[float("inf")] < len(requests)
