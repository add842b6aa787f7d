"""LitServe: a ``ls.LitAPI`` whose ``setup`` loads the model and whose ``predict`` returns ``predict_proba``, run by
``ls.LitServer(accelerator="cpu", workers_per_device=1)`` with one API server process (``num_api_servers=1``)
and ZeroMQ between it and the inference worker (``fast_queue=True``, which LitServe's docs advise above 100
requests/s); POST /predict, readiness on GET /health (200 once the worker is ready)."""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

from peers import Launch, Peer, Target, floats, python

SERVER = Template("""import joblib
import litserve as ls
import numpy as np

TEXT = $text


class Scorer(ls.LitAPI):
    def setup(self, device):
        self.model = joblib.load($path)

    def decode_request(self, request):
        return request["data"] if TEXT else np.asarray(request["data"], dtype=np.float64)

    def predict(self, rows):
        return self.model.predict_proba(rows)

    def encode_response(self, output):
        return output.tolist()


if __name__ == "__main__":
    server = ls.LitServer(Scorer(), accelerator="cpu", workers_per_device=1, fast_queue=True)
    server.run(host="127.0.0.1", port=$port, num_api_servers=1, generate_client_file=False, log_level="warning")
""")


def prepare(venv: Path, folder: Path, target: Target, port: int) -> Launch:
    (folder / "server.py").write_text(SERVER.substitute(text=target.text, path=repr(str(target.path)), port=port))
    return Launch(
        command=[str(python(venv)), "server.py"],
        ready_path="/health",
        score_path="/predict",
        body={"data": target.row},
    )


def read_answer(answer: Any) -> Any:
    return floats(answer)


PEER = Peer(
    name="litserve",
    title="LitServe",
    requirements=("litserve==0.2.19",),
    prepare=prepare,
    read_answer=read_answer,
    how="LitServer(accelerator='cpu', workers_per_device=1, fast_queue=True).run(num_api_servers=1)",
)
