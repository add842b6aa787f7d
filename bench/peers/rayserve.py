"""Ray Serve: a ``@serve.deployment(num_replicas=1)`` class whose ``__init__`` loads the model and whose
``async __call__`` answers the Starlette request with ``predict_proba``, deployed by ``serve run`` from a Serve
config file (which starts a local Ray cluster: GCS, raylet, dashboard, the Serve controller, an HTTP proxy and the
replica, all children of the CLI); POST /, ready once GET /-/routes lists the application."""

from __future__ import annotations

import json
from pathlib import Path
from string import Template
from typing import Any

from peers import Launch, Peer, Target, floats

DEPLOYMENT = Template("""import joblib
import numpy as np
from ray import serve
from starlette.requests import Request

TEXT = $text


@serve.deployment(num_replicas=1)
class Scorer:
    def __init__(self) -> None:
        self.model = joblib.load($path)

    async def __call__(self, request: Request) -> list:
        data = (await request.json())["data"]
        return self.model.predict_proba(data if TEXT else np.asarray(data, dtype=np.float64)).tolist()


app = Scorer.bind()
""")


def prepare(venv: Path, folder: Path, target: Target, port: int) -> Launch:
    (folder / "scorer.py").write_text(DEPLOYMENT.substitute(text=target.text, path=repr(str(target.path))))
    config = {  # JSON is YAML
        "proxy_location": "HeadOnly",
        "http_options": {"host": "127.0.0.1", "port": port},
        "applications": [
            {
                "name": "scorer",
                "route_prefix": "/",
                "import_path": "scorer:app",
                "deployments": [{"name": "Scorer", "num_replicas": 1}],
            }
        ],
    }
    (folder / "serve.yaml").write_text(json.dumps(config, indent=1))
    return Launch(
        command=[str(venv / "bin" / "serve"), "run", "serve.yaml"],
        ready_path="/-/routes",
        ready_text='"scorer"',
        score_path="/",
        body={"data": target.row},
        # the replica runs in a Ray worker process: it finds scorer.py through PYTHONPATH
        env={"PYTHONPATH": str(folder), "RAY_USAGE_STATS_ENABLED": "0"},
        startup_timeout_s=240.0,
    )


def read_answer(answer: Any) -> Any:
    return floats(answer)


PEER = Peer(
    name="rayserve",
    title="Ray Serve",
    requirements=("ray[serve]==2.60.0",),
    prepare=prepare,
    read_answer=read_answer,
    how="serve run serve.yaml (one replica, a local Ray cluster started by the CLI)",
)
