"""BentoML: a ``@bentoml.service`` class (one worker) whose ``__init__`` loads the model and whose one
``@bentoml.api`` method returns ``predict_proba``, run by ``bentoml serve``; POST /predict_proba with the
method's arguments as the JSON object, readiness on GET /readyz."""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

from peers import Launch, Peer, Target, floats

SERVICE = Template("""import bentoml
import joblib
import numpy as np


@bentoml.service(workers=1)
class Scorer:
    def __init__(self) -> None:
        self.model = joblib.load($path)

    @bentoml.api
    def predict_proba(self, data: $annotation) -> list[list[float]]:
        rows = data if $text else np.asarray(data, dtype=np.float64)
        return self.model.predict_proba(rows).tolist()
""")


def prepare(venv: Path, folder: Path, target: Target, port: int) -> Launch:
    annotation = "list[str]" if target.text else "list[list[float]]"
    service = SERVICE.substitute(path=repr(str(target.path)), annotation=annotation, text=target.text)
    (folder / "service.py").write_text(service)
    return Launch(
        command=[str(venv / "bin" / "bentoml"), "serve", "service:Scorer", "--host", "127.0.0.1", "--port", str(port)],
        ready_path="/readyz",
        score_path="/predict_proba",
        body={"data": target.row},
        env={"BENTOML_HOME": str(folder / "bentoml-home"), "BENTOML_DO_NOT_TRACK": "True"},
    )


def read_answer(answer: Any) -> Any:
    return floats(answer)


PEER = Peer(
    name="bentoml",
    title="BentoML",
    requirements=("bentoml==1.4.40",),
    prepare=prepare,
    read_answer=read_answer,
    how="bentoml serve service:Scorer (@bentoml.service(workers=1), one sync @bentoml.api method)",
)
