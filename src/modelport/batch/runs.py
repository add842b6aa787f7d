"""Runs and their tasks in the workspace database: created queued, claimed by one process that executes them,
finished with a status; ``cancel`` asks the executing process to stop, ``retry`` queues a finished run again with
only its failed (or canceled) tasks to do."""

from __future__ import annotations

import builtins
import hashlib
import os
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, selectinload

from ..errors import ConflictError, InvalidInputError, NotFoundError
from ..registry import Workspace
from ..registry.db import read_session, write_session
from ..registry.refs import closest
from ..registry.tables import PipelineRow, PipelineVersionRow, RunRow, ScoredInputRow, TaskRow, as_utc, utcnow
from . import datasets, spool
from .engines import ENGINES
from .pipelines import PipelineNotFoundError, PipelineRegistry
from .records import FINISHED, RUN_STATES, Run, Task

MIN_PREFIX = 4  # characters of a run's id that find it, when they start no other run's


class RunNotFoundError(NotFoundError):
    def __init__(self, run_id: str) -> None:
        short = f" (a start of an id finds its run from {MIN_PREFIX} characters on)" if len(run_id) < MIN_PREFIX else ""
        super().__init__(f"no run {run_id!r}{short}: see modelport runs list")


STALE_AFTER_S = 120.0  # a running run whose executor is silent this long is failed by fail_stale
HEARTBEAT_EVERY_S = 10.0


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class RunRegistry:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.engine = workspace.engine
        self.pipelines = PipelineRegistry(workspace)

    # -- creating -----------------------------------------------------------------------------------------------

    def create(
        self,
        ref: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        experiment: str = "",
        engine: str = "local",
        workers: int | None = None,
        trigger: str = "cli",
        retries: int | None = None,
        cwd: str | None = None,
        with_run: Callable[[Session, str], None] | None = None,
    ) -> Run:
        """Queue a run of a pipeline version; its parameters are checked and filled in now. ``with_run(session,
        run_id)`` writes rows that must commit with the run or not at all (the scheduler's claim of its slot): an
        error it raises, or one at commit, leaves no run."""
        if engine not in ENGINES:
            raise InvalidInputError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
        if workers is not None and workers < 1:
            raise InvalidInputError(f"workers must be at least 1, not {workers}")
        if retries is not None and retries < 0:
            raise InvalidInputError(f"retries must be 0 or more, not {retries}")
        version = self.pipelines.get(ref)
        values = version.pipeline.resolve_parameters(parameters)
        run_id = new_run_id()
        context: dict[str, Any] = {"cwd": cwd or os.getcwd()}
        if retries is not None:
            context["retries"] = retries
        with write_session(self.engine) as session:
            version_id = session.scalars(
                select(PipelineVersionRow.id)
                .join(PipelineRow)
                .where(PipelineRow.name == version.name, PipelineVersionRow.version == version.version)
            ).one()
            session.add(
                RunRow(
                    id=run_id,
                    pipeline_version_id=version_id,
                    experiment=experiment,
                    parameters=values,
                    context=context,
                    engine=engine,
                    workers=workers,
                    status="queued",
                    trigger=trigger,
                    output_url=datasets.join(self.workspace.store_url, "runs", run_id),
                )
            )
            if with_run is not None:
                session.flush()
                with_run(session, run_id)
        return self.get(run_id)

    # -- reading ------------------------------------------------------------------------------------------------

    def get(self, run_id: str) -> Run:
        with read_session(self.engine) as session:
            row = self._row(session, run_id)
            return _record(row)

    def _row(self, session: Any, run_id: str) -> RunRow:
        query = select(RunRow).options(selectinload(RunRow.tasks), selectinload(RunRow.version))
        row = session.scalars(query.where(RunRow.id == run_id)).one_or_none()
        if row is None and len(run_id) >= MIN_PREFIX:  # a unique prefix, as people type them
            rows = session.scalars(query.where(RunRow.id.startswith(run_id)).limit(2)).all()
            if len(rows) == 1:
                row = rows[0]
            elif len(rows) > 1:
                raise InvalidInputError(f"run id prefix {run_id!r} matches several runs: give more of it")
        if row is None:
            raise RunNotFoundError(run_id)
        found: RunRow = row
        return found

    def list(self, pipeline: str | None = None, status: str | None = None, limit: int = 50) -> builtins.list[Run]:
        """Runs, newest first: of one pipeline (which must exist), in one state (one of ``RUN_STATES``)."""
        if status is not None and status not in RUN_STATES:
            raise InvalidInputError(f"no run is ever {status!r}: a run's status is one of {', '.join(RUN_STATES)}")
        with read_session(self.engine) as session:
            known = select(PipelineRow.id).where(PipelineRow.name == pipeline)
            if pipeline is not None and session.scalar(known) is None:
                names = session.scalars(select(PipelineRow.name)).all()
                raise PipelineNotFoundError(pipeline, suggestions=closest(pipeline, names))
            query = select(RunRow).options(selectinload(RunRow.tasks), selectinload(RunRow.version))
            if pipeline is not None:
                query = query.join(PipelineVersionRow).join(PipelineRow).where(PipelineRow.name == pipeline)
            if status is not None:
                query = query.where(RunRow.status == status)
            rows = session.scalars(query.order_by(RunRow.created_at.desc()).limit(limit)).all()
            return [_record(r) for r in rows]

    def queued(self) -> builtins.list[str]:
        with read_session(self.engine) as session:
            return list(session.scalars(select(RunRow.id).where(RunRow.status == "queued").order_by(RunRow.created_at)))

    # -- changing -----------------------------------------------------------------------------------------------

    def claim(self, run_id: str) -> bool:
        """Take a queued run for this process to execute; False when another process has it (or it is done)."""
        with write_session(self.engine) as session:
            result = session.execute(
                update(RunRow)
                .where(RunRow.id == run_id, RunRow.status == "queued")
                .values(
                    status="running",
                    owner=owner_name(),
                    started_at=utcnow(),
                    heartbeat_at=utcnow(),
                    ended_at=None,
                    error=None,
                )
            )
            return bool(getattr(result, "rowcount", 0))

    def cancel(self, run_id: str) -> Run:
        """A queued run is canceled at once; a running one is asked to stop (its executor sees it within a second,
        lets the tasks already running finish and cancels the rest)."""
        run = self.get(run_id)
        if run.finished:
            raise ConflictError(f"run {run.id} is already {run.status}")
        with write_session(self.engine) as session:
            session.execute(update(RunRow).where(RunRow.id == run.id).values(cancel_requested=True))
            queued = getattr(
                session.execute(
                    update(RunRow)
                    .where(RunRow.id == run.id, RunRow.status == "queued")
                    .values(status="canceled", ended_at=utcnow())
                ),
                "rowcount",
                0,
            )
            if queued:
                session.execute(
                    update(TaskRow)
                    .where(TaskRow.run_id == run.id, TaskRow.status == "pending")
                    .values(status="canceled")
                    .execution_options(synchronize_session=False)
                )
        return self.get(run.id)

    def heartbeat(self, run_id: str) -> None:
        """Say the executing process is alive (``fail_stale`` fails runs that stop saying it)."""
        with write_session(self.engine) as session:
            session.execute(update(RunRow).where(RunRow.id == run_id).values(heartbeat_at=utcnow()))

    def fail_stale(self, after_s: float = STALE_AFTER_S) -> builtins.list[str]:
        """Fail the running runs whose executor has not sent a heartbeat for ``after_s`` seconds (it was killed, or
        its machine went down): their running tasks fail with them, and ``runs retry`` takes them up again. What the
        dead executor left behind goes: the input it had cut (a retry cuts it again) and outputs half-written under
        the run's folder and beside its lost tasks' outputs."""
        cutoff = utcnow() - timedelta(seconds=after_s)
        with write_session(self.engine) as session:
            found = session.execute(
                select(RunRow.id, RunRow.output_url).where(
                    RunRow.status == "running", or_(RunRow.heartbeat_at.is_(None), RunRow.heartbeat_at < cutoff)
                )
            ).all()
            if not found:
                return []
            stale = [run_id for run_id, _ in found]
            outputs = session.scalars(
                select(TaskRow.output).where(
                    TaskRow.run_id.in_(stale), TaskRow.status == "running", TaskRow.output.is_not(None)
                )
            ).all()
            reason = f"its executor stopped: no heartbeat for {after_s:.0f} s (retry it with modelport runs retry)"
            session.execute(
                update(RunRow)
                .where(RunRow.id.in_(stale), RunRow.status == "running")
                .values(status="failed", error=reason, ended_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            session.execute(
                update(TaskRow)
                .where(TaskRow.run_id.in_(stale), TaskRow.status == "running")
                .values(status="failed", error="lost with the run's executor")
                .execution_options(synchronize_session=False)
            )
        folders = {url for _, url in found} | {o.rsplit("/", 1)[0] for o in outputs if o and "/" in o}
        _clean_up(sorted(folders), [datasets.join(url, "spool") for _, url in found], after_s)
        return stale

    def take_new_inputs(self, run_id: str, step: str, files: Sequence[str]) -> builtins.list[str]:
        """Of ``files``, those that no other run of this run's pipeline took for ``step`` before (any version of the
        pipeline counts), taken now for this run, with those it took already (a run planned again): in the order
        given. Each file is taken by exactly one run, even by runs planned at the same moment on one database: the
        primary key of ``scored_inputs`` decides, and inserts that meet a taken key do nothing. Only the files not
        taken yet are inserted, so an hourly run over a folder of a year of windows writes its hour's, not the year."""
        with write_session(self.engine) as session:
            pipeline_id = session.scalar(select(PipelineVersionRow.pipeline_id).join(RunRow).where(RunRow.id == run_id))
            if pipeline_id is None:
                raise RunNotFoundError(run_id)
            keys = {hashlib.sha256(f.encode()).hexdigest(): f for f in files}
            taken = select(ScoredInputRow.file_sha256, ScoredInputRow.run_id).where(
                ScoredInputRow.pipeline_id == pipeline_id, ScoredInputRow.step == step
            )  # the primary key's prefix: one index scan
            others = {sha for sha, owner in session.execute(taken) if owner != run_id}
            now = utcnow()
            rows = [
                {
                    "pipeline_id": pipeline_id,
                    "step": step,
                    "file_sha256": k,
                    "file": f,
                    "run_id": run_id,
                    "taken_at": now,
                }
                for k, f in keys.items()
                if k not in others
            ]
            if rows:  # a run taking some of them at this moment: the key keeps its row, and ours does nothing
                session.execute(_insert_ignoring_taken(session), rows)
            mine = set(  # by the run's own index
                session.scalars(
                    select(ScoredInputRow.file_sha256).where(
                        ScoredInputRow.run_id == run_id, ScoredInputRow.step == step
                    )
                )
            )
        return [f for k, f in keys.items() if k in mine]

    def give_back_inputs(self, run_id: str, step: str) -> None:
        """Let go of the files a run took for ``step`` (its planning failed before any task): a later run takes them."""
        with write_session(self.engine) as session:
            session.execute(delete(ScoredInputRow).where(ScoredInputRow.run_id == run_id, ScoredInputRow.step == step))

    def cancel_requested(self, run_id: str) -> bool:
        with read_session(self.engine) as session:
            return bool(session.scalars(select(RunRow.cancel_requested).where(RunRow.id == run_id)).one())

    def retry(self, run_id: str) -> Run:
        """Queue a failed or canceled run again: its failed, canceled and skipped tasks go back to pending (their
        outputs are rewritten whole); completed tasks are kept."""
        self.fail_stale()  # a run whose executor died is failed first, so it can be retried
        run = self.get(run_id)
        if run.status not in ("failed", "canceled"):
            raise ConflictError(f"run {run.id} is {run.status}: only a failed or canceled run can be retried")
        with write_session(self.engine) as session:
            session.execute(
                update(TaskRow)
                .where(TaskRow.run_id == run.id, TaskRow.status.in_(("failed", "canceled", "skipped", "running")))
                .values(status="pending", error=None)
                .execution_options(synchronize_session=False)
            )
            session.execute(
                update(RunRow)
                .where(RunRow.id == run.id)
                .values(status="queued", cancel_requested=False, error=None, ended_at=None, owner=None)
            )
        return self.get(run.id)

    def add_tasks(self, run_id: str, step: str, tasks: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """Record a step's planned tasks (pending); returns their ids by key."""
        with write_session(self.engine) as session:
            rows = [TaskRow(**{"run_id": run_id, "step": step, "status": "pending", "attempts": 0, **t}) for t in tasks]
            session.add_all(rows)
            session.flush()
            return {r.key: r.id for r in rows}

    def update_tasks(self, changes: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
        """Apply tasks' changes in one transaction: the changes of one task merged (the later win), then one
        executemany per set of columns (a thousand tasks are a few statements, not three thousand)."""
        if not changes:
            return
        merged: dict[int, dict[str, Any]] = {}
        for task_id, values in changes:
            merged.setdefault(task_id, {}).update(values)
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for task_id, values in merged.items():
            groups.setdefault(tuple(sorted(values)), []).append({"id": task_id, **values})
        with write_session(self.engine) as session:
            for rows in groups.values():
                session.execute(update(TaskRow), rows)

    def finish(self, run_id: str, status: str, error: str | None = None) -> None:
        assert status in FINISHED
        with write_session(self.engine) as session:
            session.execute(
                update(RunRow).where(RunRow.id == run_id).values(status=status, error=error, ended_at=utcnow())
            )

    def context(self, run_id: str) -> dict[str, Any]:
        with read_session(self.engine) as session:
            return dict(session.scalars(select(RunRow.context).where(RunRow.id == run_id)).one())

    def set_context(self, run_id: str, context: Mapping[str, Any]) -> None:
        with write_session(self.engine) as session:
            session.execute(update(RunRow).where(RunRow.id == run_id).values(context=dict(context)))


def _insert_ignoring_taken(session: Session) -> Any:
    """An insert into ``scored_inputs`` that leaves a row whose key is there already as it is."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(ScoredInputRow).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(ScoredInputRow).on_conflict_do_nothing()


def _clean_up(folders: Sequence[str], cuts: Sequence[str], idle_s: float) -> None:
    """What stopped runs left: their cut inputs, and their half-written outputs that nobody has written to for
    ``idle_s`` (an executor wrongly thought dead, say cut off from the database, may still be writing)."""
    for cut in cuts:
        spool.remove(cut)
    for folder in folders:
        datasets.discard_partials(folder, idle_s=idle_s)


def _when(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def _record(row: RunRow) -> Run:
    return Run(
        id=row.id,
        pipeline=row.version.pipeline.name,
        pipeline_version=row.version.version,
        experiment=row.experiment,
        parameters=dict(row.parameters),
        engine=row.engine,
        workers=row.workers,
        status=row.status,
        trigger=row.trigger,
        output_url=row.output_url,
        error=row.error,
        created_at=as_utc(row.created_at),
        started_at=_when(row.started_at),
        ended_at=_when(row.ended_at),
        cancel_requested=row.cancel_requested,
        tasks=tuple(
            Task(
                id=t.id,
                step=t.step,
                key=t.key,
                status=t.status,
                partition=dict(t.partition),
                model=t.model,
                rows_in=t.rows_in,
                rows_out=t.rows_out,
                attempts=t.attempts,
                duration_s=t.duration_s,
                output=t.output,
                log=t.log,
                error=t.error,
                started_at=_when(t.started_at),
                ended_at=_when(t.ended_at),
            )
            for t in row.tasks
        ),
    )
