"""The Ray engine on a local Ray instance: the same run gives the same outputs, bit for bit, as the local engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelport import Workspace
from modelport.batch import PipelineRegistry, RunExecutor, RunRegistry

from .conftest import PIPELINE, register_sensors

pytest.importorskip("ray")


@pytest.mark.slow
def test_ray_and_local_engines_write_identical_outputs(
    tmp_path: Path, sensor_models: dict[tuple[int, int], object]
) -> None:
    iot = Workspace(tmp_path / "ws")
    register_sensors(iot, sensor_models)
    PipelineRegistry(iot).register(PIPELINE)
    runs = RunRegistry(iot)
    local = RunExecutor(iot).execute(runs.create("iot-anomaly", workers=2, cwd=str(Path.cwd())).id)
    on_ray = RunExecutor(iot).execute(runs.create("iot-anomaly", engine="ray", workers=2, cwd=str(Path.cwd())).id)

    assert local.status == on_ray.status == "completed", on_ray.error
    assert on_ray.engine == "ray"
    by_key = {t.key: t for t in local.tasks}
    for task in on_ray.tasks:
        assert Path(task.output or "").read_bytes() == Path(by_key[task.key].output or "").read_bytes()
        assert task.model == by_key[task.key].model and task.rows_out == by_key[task.key].rows_out
    iot.close()
