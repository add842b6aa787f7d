"""Azure ML inference server (azureml-inference-server-http): ``azmlinfsrv`` runs an entry script whose ``init()``
loads the model and whose ``run(raw_data)`` gets the request body as text, behind gunicorn (one sync worker) and
Flask; POST /score, liveness on GET /."""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

from peers import Launch, Peer, Target, floats

SCORE = Template("""import json
import os

import joblib
import numpy as np

TEXT = $text


def init():
    global model
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "$file"))


def run(raw_data):
    data = json.loads(raw_data)["data"]
    return model.predict_proba(data if TEXT else np.asarray(data, dtype=np.float64)).tolist()
""")


def prepare(venv: Path, folder: Path, target: Target, port: int) -> Launch:
    (folder / "score.py").write_text(SCORE.substitute(text=target.text, file=target.path.name))
    command = [str(venv / "bin" / "azmlinfsrv"), "--entry_script", "score.py", "--model_dir", str(target.path.parent)]
    return Launch(
        command=[*command, "--port", str(port), "--worker_count", "1"],
        ready_path="/",
        score_path="/score",
        body={"data": target.row},
    )


def read_answer(answer: Any) -> Any:
    return floats(answer)


PEER = Peer(
    name="azureml",
    title="Azure ML inference server",
    requirements=("azureml-inference-server-http==1.5.1",),
    prepare=prepare,
    read_answer=read_answer,
    how="azmlinfsrv --entry_script score.py --worker_count 1 (gunicorn, one sync worker, Flask)",
)
