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


@pytest.mark.slow
def test_a_split_file_read_in_pieces_gives_the_same_parts_on_ray(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from modelport.batch.pipeline import Pipeline
    from modelport.settings import BatchSettings

    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"id": range(3000), "a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    frame.to_parquet(tmp_path / "big.parquet", index=False, row_group_size=500)
    ws = Workspace(tmp_path / "ws")
    ws.models.register("m", obj=LogisticRegression().fit(frame[["a", "b"]], frame["a"] > 0), framework="sklearn")
    step = {"name": "score", "type": "score", "model": "m", "input": str(tmp_path / "big.parquet"),
            "features": ["a", "b"], "keep": ["id"], "split_rows": 1000, "mini_batch_size": 100,
            "output": {"format": "csv"}}  # fmt: skip
    PipelineRegistry(ws).register(Pipeline.from_dict({"name": "split", "steps": [step]}))
    settings = BatchSettings(stream_above_mb=0, stream_piece_rows=250)  # every part read in pieces
    runs = RunRegistry(ws)

    local, on_ray = (
        RunExecutor(ws, settings=settings).execute(runs.create("split", engine=engine, workers=2).id)
        for engine in ("local", "ray")
    )

    assert local.status == on_ray.status == "completed", (local.error, on_ray.error)
    assert [t.key for t in on_ray.tasks] == [f"big.parquet/part-0000{i}" for i in range(3)]
    for mine, theirs in zip(local.tasks, on_ray.tasks, strict=True):
        assert Path(theirs.output or "").read_bytes() == Path(mine.output or "").read_bytes()
    assert "in 4 piece(s) of up to 300" in Path(on_ray.tasks[0].log or "").read_text()
    ws.close()


@pytest.mark.slow
def test_a_partitioned_input_the_run_cuts_in_pieces_gives_the_same_outputs_on_ray(
    tmp_path: Path, sensor_models: dict[tuple[int, int], object]
) -> None:
    from modelport.settings import BatchSettings

    ws = Workspace(tmp_path / "ws")
    register_sensors(ws, sensor_models)
    PipelineRegistry(ws).register(PIPELINE)
    runs = RunRegistry(ws)
    cut = BatchSettings(stream_above_mb=0, stream_piece_rows=2000)  # the readings cut into pieces by the run

    whole = RunExecutor(ws).execute(runs.create("iot-anomaly", workers=2, cwd=str(Path.cwd())).id)
    on_ray = RunExecutor(ws, settings=cut).execute(
        runs.create("iot-anomaly", engine="ray", workers=2, cwd=str(Path.cwd())).id
    )

    assert whole.status == on_ray.status == "completed", on_ray.error
    assert [t.key for t in on_ray.tasks] == [t.key for t in whole.tasks]
    for mine, theirs in zip(whole.tasks, on_ray.tasks, strict=True):
        assert Path(theirs.output or "").read_bytes() == Path(mine.output or "").read_bytes()
    assert not (Path(on_ray.output_url) / "spool").exists()
    ws.close()
