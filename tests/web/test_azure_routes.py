"""The Azure ML compatible routes for no-code models: ``GET /`` and ``/score`` with the payload shapes Azure ML
users send, checked against the model's signature so that bad input is a 400 that says what was expected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from starlette.testclient import TestClient

from modelport import Workspace
from tests.web.helpers import error_of, serve

FRAME_ROWS = {"age": [30.0, 60.0, 41.5], "income": [1.2, 4.8, 2.5]}


@pytest.fixture(scope="module")
def clf(ws: Workspace, classifier: Any, rows: np.ndarray) -> Iterator[TestClient]:
    ws.models.register("clf", obj=classifier, sample_input={"data": rows[:2].tolist()}, sample_output=[0, 1])
    with serve(ws, ["clf"]) as client:
        yield client


@pytest.fixture(scope="module")
def frame(ws: Workspace, frame_model: Any) -> Iterator[TestClient]:
    ws.models.register("frame", obj=frame_model, sample_input={"data": {"age": [30.0], "income": [1.2]}})
    with serve(ws, ["frame"]) as client:
        yield client


def test_root_answers_healthy(clf: TestClient) -> None:
    response = clf.get("/")

    assert response.status_code == 200
    assert response.text == "Healthy"
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("envelope", [True, False], ids=["data-envelope", "bare-rows"])
def test_rows_are_scored_as_the_model_predicts(
    clf: TestClient, classifier: Any, rows: np.ndarray, envelope: bool
) -> None:
    batch = rows[5:25].tolist()

    response = clf.post("/score", json={"data": batch} if envelope else batch)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == classifier.predict(rows[5:25]).tolist()


def test_a_single_row_is_one_prediction(clf: TestClient, classifier: Any, rows: np.ndarray) -> None:
    response = clf.post("/score", json={"data": rows[3].tolist()})

    assert response.json() == classifier.predict(rows[3:4]).tolist()


def test_columns_and_records_reach_a_dataframe_model(frame: TestClient, frame_model: Any) -> None:
    expected = frame_model.predict(pd.DataFrame(FRAME_ROWS)).tolist()
    records = [
        {"income": income, "age": age}  # columns in another order than the model's: reordered by name
        for age, income in zip(FRAME_ROWS["age"], FRAME_ROWS["income"], strict=True)
    ]

    by_columns = frame.post("/score", json={"data": FRAME_ROWS})
    by_records = frame.post("/score", json={"data": records})

    assert sorted(set(expected)) == [0, 1]  # both classes: the order of the rows matters
    assert by_columns.json() == by_records.json() == expected


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"data": [[0.1, 0.2]]}, "row 0 has 2 value(s); the model expects 3 per row"),
        ({"data": [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3, 0.4]]}, "row 1 has 4 value(s); the model expects 3 per row"),
        ({"data": [[0.1, "high", 0.3]]}, "row 0, column 1 is 'high': expected a number (input, FP64)"),
        ({"data": [[0.1, True, 0.3]]}, "row 0, column 1 is True: expected a number (input, FP64)"),
        ({"data": []}, "the input must be a list of rows of 3 value(s) (input, FP64)"),
        ({"data": "0.1, 0.2, 0.3"}, "the input must be a list of rows of 3 value(s) (input, FP64)"),
        ({"data": [{"a": 1}]}, "row 0 has 1 value(s); the model expects 3 per row"),
    ],
    ids=["too-few", "ragged", "text", "boolean", "empty", "a-string", "a-record"],
)
def test_input_that_does_not_fit_the_signature_is_a_400(clf: TestClient, payload: Any, message: str) -> None:
    assert error_of(clf.post("/score", json=payload), 400) == message


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"data": {"age": [30.0]}}, "the input lacks column(s) 'income'; expected age, income"),
        (
            {"data": [{"age": 30.0, "income": 1.0}, {"age": 3.0}]},
            "row 1 lacks column(s) 'income'; expected age, income",
        ),
        ({"data": {"age": ["old"], "income": [1.0]}}, "column 'age', row 0 is 'old': expected a number (age, FP64)"),
        ({"data": [[30.0, 1.0, 7.0]]}, "row 0 has 3 value(s); the model expects 2 per row"),
        ({"data": 42}, "the input must be records, an object of columns or rows of 2 values: age, income"),
    ],
    ids=["missing-column", "record-missing-column", "text-column", "too-wide-row", "a-number"],
)
def test_input_that_misses_columns_is_a_400(frame: TestClient, payload: Any, message: str) -> None:
    assert error_of(frame.post("/score", json=payload), 400) == message


def test_a_model_without_a_signature_complains_itself(ws: Workspace, classifier: Any) -> None:
    ws.models.register("unsigned", obj=classifier)

    with serve(ws, ["unsigned"]) as client:
        message = error_of(client.post("/score", json={"data": [[0.1, 0.2]]}), 400)

    assert message.startswith("model unsigned:1 rejected the input: X has 2 features")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the request body is not valid JSON: "),
        (b"", "the request body is empty: send JSON such as "),
        (b"  \n", "the request body is empty: send JSON such as "),
    ],
    ids=["bad-json", "empty", "blank"],
)
def test_a_body_that_is_not_json_is_a_400(clf: TestClient, body: bytes, message: str) -> None:
    response = clf.post("/score", content=body, headers={"content-type": "application/json"})

    assert error_of(response, 400).startswith(message)


def test_get_on_a_no_code_model_says_to_post(clf: TestClient) -> None:
    assert error_of(clf.get("/score"), 400) == "clf:1 scores JSON sent with POST, not GET"


def test_options_answers_without_scoring(clf: TestClient) -> None:
    response = clf.options("/score")

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["allow"] == "POST, OPTIONS"
