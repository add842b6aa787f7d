"""Several processes registering at once get distinct versions, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from modelport import EnvironmentVersion, Workspace
from tests.helpers import register_worker, run_in_processes

PROCESSES = 3
PER_PROCESS = 5
ALL_VERSIONS = list(range(1, PROCESSES * PER_PROCESS + 1))


def test_processes_registering_at_once_get_distinct_versions(workspace: Workspace, db_url: str, tmp_path: Path) -> None:
    artifact = tmp_path / "weights.bin"
    artifact.write_bytes(b"the same bytes in every version")
    workspace.environments.register("same", python="3.11", requirements=["numpy==1.26"])

    outcomes = run_in_processes(
        register_worker,
        [(str(workspace.settings.home), db_url, worker, str(artifact), PER_PROCESS) for worker in range(PROCESSES)],
    )

    assert [detail for status, detail in outcomes if status != "ok"] == []
    reports = [report for _, report in outcomes]
    # models: one name, 15 versions, no number twice, each process sees its own versions grow
    assert sorted(v for r in reports for v in r["models"]) == ALL_VERSIONS
    assert all(r["models"] == sorted(r["models"]) for r in reports)
    listed = workspace.models.list("shared")
    assert [m.version for m in listed] == ALL_VERSIONS[::-1]
    assert len({f.sha256 for m in listed for f in m.files}) == 1  # stored once, though put by three processes
    # environments: different content gets distinct versions ...
    assert sorted(v for r in reports for v in r["environments"]) == ALL_VERSIONS
    assert len({e.requirements for e in workspace.environments.list("distinct")}) == PROCESSES * PER_PROCESS
    # ... and identical content registered by every process at once is one new version, returned to each
    assert [r["same"] for r in reports] == [2] * PROCESSES
    assert [e.version for e in workspace.environments.list("same")] == [2, 1]


def test_identical_environment_registered_by_another_writer_meanwhile(workspace: Workspace, db_url: str) -> None:
    """A writer that finds no version with its content, then loses the race to insert it, returns the version the
    other writer made instead of failing on the unique constraint. PostgreSQL lets the two transactions overlap;
    SQLite serializes them, so there the second writer simply finds the first one's version."""
    workspace.environments.register("serve", python="3.11", requirements=["numpy==1.26"])
    reached, go = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def pause_before_taking_a_number(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE ENVIRONMENTS"):
            reached.set()
            go.wait(timeout=10)

    def register(key: str, ws: Workspace) -> None:
        try:
            results[key] = ws.environments.register("serve", python="3.11", requirements=["numpy==2.0"])
        except Exception as exc:  # reported by the assertions below
            results[key] = exc

    event.listen(workspace.engine, "before_cursor_execute", pause_before_taking_a_number)
    try:
        with Workspace(workspace.settings.home, db_url=db_url) as other:
            slow = threading.Thread(target=register, args=("slow", workspace))
            slow.start()
            assert reached.wait(timeout=10)  # slow has looked for the content and found none
            fast = threading.Thread(target=register, args=("fast", other))
            fast.start()
            if workspace.engine.dialect.name == "postgresql":
                fast.join(timeout=30)  # fast registers and commits while slow waits
                assert results["fast"].version == 2
            else:
                time.sleep(0.2)  # fast waits for the database lock that slow holds
            go.set()
            slow.join(timeout=30)
            fast.join(timeout=30)
    finally:
        go.set()
        event.remove(workspace.engine, "before_cursor_execute", pause_before_taking_a_number)

    assert isinstance(results["slow"], EnvironmentVersion), results["slow"]
    assert results["fast"] == results["slow"]
    assert results["slow"].version == 2
    assert [e.version for e in workspace.environments.list("serve")] == [2, 1]
