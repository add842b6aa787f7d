"""MLflow: the model saved as an MLflow model by ``mlflow.sklearn.save_model`` (``pyfunc_predict_fn=
"predict_proba"``) in the peer's virtualenv, served by ``mlflow models serve --env-manager local --workers 1``
(its pyfunc scoring server: FastAPI under uvicorn, started as a child of the CLI); POST /invocations with
``{"inputs": ...}``, readiness on GET /ping."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from peers import Launch, Peer, PeerUnavailable, Target, floats, last_line, python

SAVE = """import sys

import joblib
import mlflow.sklearn

model, path, pins = joblib.load(sys.argv[1]), sys.argv[2], sys.argv[3:]
mlflow.sklearn.save_model(model, path, pyfunc_predict_fn="predict_proba", pip_requirements=pins)
"""


def prepare(venv: Path, folder: Path, target: Target, port: int) -> Launch:
    model = folder / "model"
    pins = [line for line in (venv / "bench-requirements.txt").read_text().split() if line]
    saved = subprocess.run(
        [str(python(venv)), "-c", SAVE, str(target.path), str(model), *pins],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MLFLOW_TRACKING_URI": f"file:{folder / 'mlruns'}"},
    )
    if saved.returncode != 0:
        raise PeerUnavailable(f"mlflow.sklearn.save_model failed: {last_line(saved.stderr)}")
    command = [str(venv / "bin" / "mlflow"), "models", "serve", "-m", str(model), "--env-manager", "local"]
    return Launch(
        command=[*command, "-h", "127.0.0.1", "-p", str(port), "--workers", "1"],
        ready_path="/ping",
        score_path="/invocations",
        body={"inputs": target.row},
        # the CLI starts uvicorn with ``bash -c``: the venv's bin must be on PATH for it
        env={
            "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "MLFLOW_TRACKING_URI": f"file:{folder / 'mlruns'}",
        },
    )


def read_answer(answer: Any) -> Any:
    return floats(answer["predictions"])


PEER = Peer(
    name="mlflow",
    title="MLflow",
    requirements=("mlflow==3.17.2",),
    prepare=prepare,
    read_answer=read_answer,
    how="mlflow models serve --env-manager local --workers 1 (pyfunc scoring server, FastAPI + uvicorn)",
)
