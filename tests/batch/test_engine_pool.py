"""Engines kept between runs (``modelport server``): the second run of the IoT pipeline finds the workers started
and every model loaded; an engine idle past ``idle_s`` is stopped; an unhealthy one is not handed out again."""

from __future__ import annotations

import time
from pathlib import Path

from modelport import Workspace
from modelport.batch import Run, RunExecutor, RunRegistry
from modelport.batch.engines import EnginePool, LocalEngine


def _loads(run: Run) -> list[tuple[str, str, bool]]:
    """(worker pid, model, whether the task loaded it) of each task of a run, from the task logs."""
    found = []
    for task in run.tasks:
        log = Path(task.log or "").read_text()
        pid = log.split(", pid ", 1)[1].split()[0]
        found.append((pid, task.model or "", " (loaded): " in log))
    return found


def test_a_second_run_reuses_the_workers_and_their_loaded_models(iot: Workspace) -> None:
    runs = RunRegistry(iot)
    pool = EnginePool(idle_s=600)
    try:
        first, second = (
            RunExecutor(iot, engines=pool).execute(runs.create("iot-anomaly", workers=1, cwd=str(Path.cwd())).id)
            for _ in range(2)
        )
        engine = pool.acquire("local", 1)
        pool.release(engine)
    finally:
        pool.close()

    assert first.status == second.status == "completed"
    assert isinstance(engine, LocalEngine)
    before, after = _loads(first), _loads(second)
    assert len(before) == len(after) == 15
    assert {pid for pid, _, _ in after} == {pid for pid, _, _ in before}  # the same worker process
    assert all(loaded for _, _, loaded in before) and not any(loaded for _, _, loaded in after)
    for a, b in zip(sorted(first.tasks, key=lambda t: t.key), sorted(second.tasks, key=lambda t: t.key), strict=True):
        assert a.output and b.output and Path(a.output).read_bytes() == Path(b.output).read_bytes()


def test_an_idle_engine_is_stopped_by_sweep_and_an_unhealthy_one_on_release() -> None:
    pool = EnginePool(idle_s=0.0)
    engine = pool.acquire("local", 1)
    assert pool.acquire("local", 1) is engine  # shared while in use
    pool.release(engine)
    assert pool.sweep() == 0  # still in use once
    pool.release(engine)  # idle_s=0: stopped when its last run lets it go
    assert pool.acquire("local", 1) is not engine

    kept = EnginePool(idle_s=3600)
    try:
        engine = kept.acquire("local", 1)
        kept.release(engine)
        assert kept.sweep() == 0 and kept.acquire("local", 1) is engine
        kept.release(engine)
        kept.idle_s = 0.0
        assert kept.sweep() == 1 and kept.acquire("local", 1) is not engine
        other = kept.acquire("local", 1)
        other.healthy = False
        kept.release(other)
        kept.release(other)
        assert kept.acquire("local", 1) is not other
    finally:
        kept.close()
        pool.close()


def test_closing_a_local_engine_while_a_task_runs_waits_for_it_and_returns(tmp_path: Path) -> None:
    import threading

    from modelport.batch.tasks import ScriptSpec, TaskSpec

    (tmp_path / "sleep.py").write_text("import time; time.sleep(2)\n")
    engine = LocalEngine(1)
    spec = ScriptSpec(str(tmp_path / "sleep.py"), (), str(tmp_path), {}, None)
    future = engine.submit([TaskSpec(1, "s", "k", 1, spec)])
    time.sleep(0.5)  # the task is running

    closing = threading.Thread(target=engine.close, kwargs={"cancel": True}, daemon=True)
    closing.start()
    closing.join(30)

    assert not closing.is_alive(), "close() hung while the task ran"
    (result,) = future.result(timeout=5)
    assert result.ok
