"""Seldon MLServer with its scikit-learn runtime (``mlserver_sklearn.SKLearnModel``): ``mlserver start`` on a folder
holding settings.json and the model's model-settings.json, ``predict_fn: predict_proba``; Open Inference Protocol V2
(POST /v2/models/<name>/infer). Inference runs in MLServer's default single parallel worker, a separate process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from peers import Launch, Peer, Target, free_port


def prepare(venv: Path, folder: Path, target: Target, port: int) -> Launch:
    settings = {"host": "127.0.0.1", "http_port": port, "grpc_port": free_port(), "metrics_port": free_port()}
    (folder / "settings.json").write_text(json.dumps(settings))
    model = folder / target.name
    model.mkdir()
    model_settings = {
        "name": target.name,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": str(target.path), "extra": {"predict_fn": "predict_proba"}},
    }
    (model / "model-settings.json").write_text(json.dumps(model_settings))
    if target.text:  # a string tensor, decoded to a list of str by the "str" content type
        tensor = {"name": "text", "datatype": "BYTES", "shape": [len(target.row)], "data": target.row}
        body = {"inputs": [tensor], "parameters": {"content_type": "str"}}
    else:
        shape = [len(target.row), len(target.row[0])]
        body = {"inputs": [{"name": "x", "datatype": "FP64", "shape": shape, "data": np.ravel(target.row).tolist()}]}
    return Launch(
        command=[str(venv / "bin" / "mlserver"), "start", str(folder)],
        ready_path=f"/v2/models/{target.name}/ready",
        score_path=f"/v2/models/{target.name}/infer",
        body=body,
    )


def read_answer(answer: Any) -> Any:
    output = answer["outputs"][0]
    return np.asarray(output["data"], dtype=np.float64).reshape(output["shape"])


PEER = Peer(
    name="mlserver",
    title="MLServer",
    # uvloop 0.23 raises in asyncio.get_event_loop() without a running loop, which MLServer 1.7.1 workers call
    requirements=("mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop==0.21.0"),
    prepare=prepare,
    read_answer=read_answer,
    how="mlserver start (SKLearnModel, predict_fn=predict_proba, default parallel_workers=1), V2 infer",
)
