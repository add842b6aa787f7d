"""The Ray engine on a local Ray instance: the same run gives the same outputs, bit for bit, as the local engine; an
engine pool (modelport server's) keeps the local engine between runs but lets each run's Ray actors go."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelport import Workspace
from modelport.batch import PipelineRegistry, RunExecutor, RunRegistry
from modelport.batch.engines import EnginePool

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
    pool = EnginePool(idle_s=3600)
    try:
        local = RunExecutor(iot, engines=pool).execute(runs.create("iot-anomaly", workers=2, cwd=str(Path.cwd())).id)
        on_ray, again = (
            RunExecutor(iot, engines=pool).execute(
                runs.create("iot-anomaly", engine="ray", workers=2, cwd=str(Path.cwd())).id
            )
            for _ in range(2)  # the second gets the cluster's 2 CPUs: the first run's actors are gone
        )
        assert pool.sweep() == 0 and pool.acquire("local", 2).name == "local"  # the local engine is still kept
    finally:
        pool.close()

    assert local.status == on_ray.status == again.status == "completed", on_ray.error
    assert on_ray.engine == "ray"
    by_key = {t.key: t for t in local.tasks}
    for task in [*on_ray.tasks, *again.tasks]:
        assert Path(task.output or "").read_bytes() == Path(by_key[task.key].output or "").read_bytes()
        assert task.model == by_key[task.key].model and task.rows_out == by_key[task.key].rows_out
    iot.close()
