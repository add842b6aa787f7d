"""One sensor's scoring job as the IoT scenario's original design ran it: a process of its own that loads the
sensor's model from the workspace, reads the whole input, keeps its sensor's rows, predicts and writes its file.

    python bench/batch_job.py WORKSPACE INPUT DEVICE TAG OUTPUT

``bench/batch.py`` starts one of these per sensor (N at a time) as the "one process per model" baseline.
"""

from __future__ import annotations

import sys

import pandas as pd

from modelport import Workspace

LABELS = {1: 0, -1: 1}  # as examples/iot/pipeline.yaml: predict's 1 (normal) -> 0, -1 (anomaly) -> 1


def main(argv: list[str]) -> int:
    home, data, device, tag, output = argv
    with Workspace(home) as ws:
        runtime = ws.models.load(f"sensor-{device}-{tag}")
    frame = pd.read_csv(data)
    rows = frame[(frame.Device == int(device)) & (frame.Tag == int(tag))].reset_index(drop=True)
    predicted = runtime.predict(rows[["Value"]].to_numpy())
    rows["Prediction"] = pd.Series(predicted).replace(LABELS).to_numpy()
    rows.to_csv(output, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
