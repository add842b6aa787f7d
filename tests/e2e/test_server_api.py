"""The scoring server started from Python, in a background thread."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sklearn.linear_model import LinearRegression

from modelport import Workspace
from modelport.errors import InvalidInputError, ModelNotFoundError
from modelport.web import ScoringServer


def test_start_score_and_stop_from_python(tmp_path: Path) -> None:
    model = LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
    with Workspace(tmp_path / "ws") as ws:
        ws.models.register("line", obj=model)
        with ScoringServer(ws, ["line"], port=0) as server:
            assert server.url.startswith("http://127.0.0.1:") and server.score_path == "/score"
            answer = httpx.post(f"{server.url}/score", json={"data": [[3.0], [4.0]]})
            assert answer.status_code == 200
            assert answer.json() == pytest.approx(model.predict([[3.0], [4.0]]).tolist())
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}/health/live", timeout=2)


def test_a_missing_model_or_a_busy_port_fails_before_serving(tmp_path: Path) -> None:
    with Workspace(tmp_path / "ws") as ws:
        ws.models.register("line", obj=LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]))
        with pytest.raises(ModelNotFoundError, match="no model named 'lien'"):
            ScoringServer(ws, ["lien"], port=0)
        with ScoringServer(ws, ["line"], port=0) as first:
            port = int(first.url.rsplit(":", 1)[1])
            with pytest.raises(InvalidInputError, match=f"cannot listen on 127.0.0.1:{port}"):
                ScoringServer(ws, ["line"], port=port)
