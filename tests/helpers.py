"""Small helpers shared by the registry, runtime and codec tests.

The ``*_worker`` functions run in child processes started with the ``spawn`` context, so they live in an importable
module and take only picklable arguments. Each reports ``("ok", value)`` or ``("error", traceback)`` on its queue.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from modelport import ModelVersion, Workspace

# -- the artifact store -------------------------------------------------------------------------------------------


def blob_path(ws: Workspace, sha256: str) -> Path:
    """Where a blob of a local artifact store lives on disk."""
    return Path(ws.store.root) / "blobs" / "sha256" / sha256[:2] / sha256


def blob_of(ws: Workspace, version: ModelVersion, path: str) -> Path:
    """The blob holding the file ``path`` of ``version``."""
    (sha256,) = [f.sha256 for f in version.files if f.path == path]
    return blob_path(ws, sha256)


def stored_blobs(ws: Workspace) -> set[str]:
    """The sha256 of every blob in a workspace's store (any fsspec filesystem)."""
    root = f"{ws.store.root}/blobs/sha256"
    if not ws.store.fs.exists(root):
        return set()
    return {str(p).rsplit("/", 1)[-1] for p in ws.store.fs.find(root)}


def flip_byte(path: Path, offset: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


DAMAGES = {"flipped-byte": flip_byte, "truncated": truncate}


def files_under(root: Path) -> list[Path]:
    """Every file (not folder) under ``root``; empty when ``root`` does not exist."""
    return sorted(p for p in root.rglob("*") if not p.is_dir()) if root.exists() else []


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create ``root`` holding ``files`` (relative path -> content); return ``root``."""
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return root


# -- workers for tests with several processes ---------------------------------------------------------------------


def run_in_processes(
    target: Callable[..., None], arguments: Sequence[tuple[Any, ...]], timeout: float = 120
) -> list[tuple[str, Any]]:
    """Run ``target(*args, start, results)`` in one spawned process per ``args``; all start together on a barrier.
    Returns the outcomes in the order the processes finished; a process that died without reporting counts as
    an error."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(arguments))
    results = context.Queue()
    processes = [context.Process(target=target, args=(*args, start, results)) for args in arguments]
    for process in processes:
        process.start()
    outcomes: list[tuple[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(outcomes) < len(processes) and time.monotonic() < deadline:
            try:
                outcomes.append(results.get(timeout=0.2))
            except queue.Empty:
                if not any(p.is_alive() for p in processes) and results.empty():
                    break
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        results.close()
        results.join_thread()
    missing = len(processes) - len(outcomes)
    exit_codes = [p.exitcode for p in processes]
    return outcomes + [("error", f"no report (exit codes {exit_codes})")] * missing


def _report(results: Any, work: Callable[[], Any]) -> None:
    try:
        results.put(("ok", work()))
    except BaseException:  # report everything: the parent asserts on it
        results.put(("error", traceback.format_exc()))


def register_worker(home: str, db_url: str, worker: int, artifact: str, count: int, start: Any, results: Any) -> None:
    """Open the workspace, wait for the others, then register ``count`` versions of model ``shared`` (all from
    ``artifact``) and of environment ``distinct`` (each different), interleaved, after one version of environment
    ``same`` whose content every worker registers at the same moment."""

    def work() -> dict[str, Any]:
        with Workspace(home, db_url=db_url) as ws:
            start.wait(timeout=60)
            same = ws.environments.register("same", python="3.11", requirements=["numpy==2.0"]).version
            models, environments = [], []
            for i in range(count):
                models.append(ws.models.register("shared", artifact, framework="custom").version)
                requirements = [f"package-{worker}-{i}==1.0"]
                environments.append(
                    ws.environments.register("distinct", python="3.11", requirements=requirements).version
                )
            return {"models": models, "environments": environments, "same": same}

    _report(results, work)


def open_workspace_worker(home: str, db_url: str, start: Any, results: Any) -> None:
    """Wait for the others, then open a workspace (creating its schema) and use it."""

    def work() -> int:
        start.wait(timeout=60)
        with Workspace(home, db_url=db_url) as ws:
            return ws.environments.register("opened", python="3.11", requirements=["numpy"]).version

    _report(results, work)


def take_inputs_worker(home: str, db_url: str, run_id: str, files: list[str], start: Any, results: Any) -> None:
    """Wait for the others, then take for ``run_id`` the files of step ``score`` that no run took before."""
    from modelport.batch import RunRegistry

    def work() -> list[str]:
        with Workspace(home, db_url=db_url) as ws:
            start.wait(timeout=60)
            return RunRegistry(ws).take_new_inputs(run_id, "score", files)

    _report(results, work)
