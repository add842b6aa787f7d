"""Several model versions behind one server: each at ``/models/{name}[/versions/{v}]/score``; ``/score`` then asks
which, and an unknown name lists the ones served."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from starlette.testclient import TestClient

from modelport import Workspace
from tests.web.helpers import error_of, serve


@pytest.fixture(scope="module")
def client(ws: Workspace, classifier: Any, frame_model: Any, rows: np.ndarray) -> Iterator[TestClient]:
    sample = {"data": rows[:1].tolist()}
    ws.models.register("clf", obj=classifier, sample_input=sample)
    constant = DummyClassifier(strategy="constant", constant=7).fit(rows, [7] * 39 + [8])
    ws.models.register("clf", obj=constant, sample_input=sample)
    ws.models.register("frame", obj=frame_model, sample_input={"data": {"age": [30.0], "income": [1.2]}})
    with serve(ws, ["clf:1", "clf:2", "frame"]) as served:
        yield served


def test_each_model_at_its_own_route(client: TestClient, classifier: Any, frame_model: Any, rows: np.ndarray) -> None:
    columns = {"age": [25.0, 70.0], "income": [1.0, 6.0]}

    clf = client.post("/models/clf/score", json={"data": rows[:10].tolist()})
    frame = client.post("/models/frame/score", json={"data": columns})

    assert clf.json() == classifier.predict(rows[:10]).tolist()  # the first version listed
    assert frame.json() == frame_model.predict(pd.DataFrame(columns)).tolist()


def test_each_version_at_its_own_route(client: TestClient, classifier: Any, rows: np.ndarray) -> None:
    batch = {"data": rows[:4].tolist()}

    first = client.post("/models/clf/versions/1/score", json=batch)
    second = client.post("/models/clf/versions/2/score", json=batch)

    assert first.json() == classifier.predict(rows[:4]).tolist()
    assert second.json() == [7, 7, 7, 7]


def test_score_without_a_name_lists_the_choices(client: TestClient) -> None:
    message = error_of(client.post("/score", json={"data": [[1.0, 2.0, 3.0]]}), 400)

    assert message == "this server serves several models; score one of: /models/clf/score, /models/frame/score"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/models/nope/score", "no model named 'nope'. Did you mean 'clf', 'frame'?"),
        ("/models/clf/versions/9/score", "model 'clf' has no version 9. Did you mean 'clf:1', 'clf:2'?"),
        ("/models/clf/versions/latest/score", "model 'clf' has no version 'latest'. Did you mean 'clf:1', 'clf:2'?"),
    ],
)
def test_an_unknown_model_or_version_is_a_404_naming_those_served(client: TestClient, path: str, message: str) -> None:
    assert error_of(client.post(path, json={"data": [[1.0, 2.0, 3.0]]}), 404) == message


def test_the_v2_metadata_lists_the_versions_served(client: TestClient) -> None:
    assert client.get("/v2/models/clf").json()["versions"] == ["1", "2"]
    assert client.get("/v2/models/clf/versions/2/ready").json() == {"name": "clf", "ready": True}
