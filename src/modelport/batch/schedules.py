"""Cron schedules of pipelines, and the scheduler that starts their runs.

A schedule names a pipeline (its published version, or a fixed one), parameters and a cron expression read in a
timezone. ``Scheduler.tick(now)`` starts what is due: for each slot it first inserts the slot's row in
``schedule_fires``, whose primary key is (schedule, slot), in the transaction that queues the slot's run: the
scheduler whose commit succeeds has claimed the slot and queued its run, the others roll back and write nothing; so
any number of schedulers on one database start each slot exactly once, and one that stops mid-way leaves either
both rows or neither (the next tick starts the slot then). A slot whose run cannot be created (its pipeline or
parameters changed) is claimed with the error instead (``schedules show`` lists it).

Slots that passed while no scheduler ran (or the scheduler fell behind by more than ``grace_s``) are *missed*; the
schedule's ``missed`` policy says what happens to them:

``latest``  start the newest missed slot once and drop the older ones (the default: an hourly job that was down for
            a day runs once, for the last hour)
``skip``    start none of them: only a slot at most ``grace_s`` old (on time) runs
``all``     start each missed slot, oldest first, but at most ``MAX_CATCH_UP`` (100) of them: the newest 100, the
            older ones dropped with a warning in the log

A paused schedule starts nothing; resuming it computes its next slot from now, so slots that passed while it was
paused are not missed ones: they are not started.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError as DBIntegrityError
from sqlalchemy.orm import Session

from ..errors import ConflictError, InvalidInputError, MissingDependencyError, ModelportError, NotFoundError
from ..registry import Workspace
from ..registry.db import read_session, write_session
from ..registry.refs import parse_reference, validate_name
from ..registry.tables import ScheduleFireRow, ScheduleRow, as_utc, utcnow
from .engines import ENGINES
from .pipelines import PipelineRegistry
from .records import Fire, Schedule
from .runs import RunRegistry

logger = logging.getLogger(__name__)

MISSED = ("latest", "skip", "all")
MAX_CATCH_UP = 100
GRACE_S = 60.0


class ScheduleNotFoundError(NotFoundError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no schedule named {name!r}: see modelport schedules list")


# -- cron ---------------------------------------------------------------------------------------------------------


def _croniter() -> Any:
    try:
        from croniter import croniter
    except ModuleNotFoundError as exc:
        raise MissingDependencyError("croniter", "batch", "schedules") from exc
    return croniter


def check_cron(expression: str) -> str:
    """A cron expression of five fields (minute hour day-of-month month day-of-week) or an alias such as
    ``@hourly``, with its spaces normalized."""
    text = " ".join(expression.split())
    fields = text.split(" ")
    if not (len(fields) == 5 or (len(fields) == 1 and text.startswith("@"))) or not _croniter().is_valid(text):
        raise InvalidInputError(
            f"invalid cron expression {expression!r}: expected five fields, minute hour day-of-month month "
            "day-of-week (e.g. '0 * * * *', hourly), or @hourly, @daily, @weekly, @monthly"
        )
    return text


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInputError(f"unknown timezone {name!r}: use an IANA name such as UTC or Europe/Paris") from exc


def next_slot(cron: str, timezone: str, after: datetime) -> datetime:
    """The first slot strictly after ``after``, in UTC."""
    moment: datetime = _croniter()(cron, after.astimezone(zone(timezone))).get_next(datetime)
    return moment.astimezone(UTC)


def newest_slots(cron: str, timezone: str, since: datetime, until: datetime, limit: int) -> builtins.list[datetime]:
    """The slots in [since, until], newest first, at most ``limit`` of them (counted back from ``until``)."""
    slots: builtins.list[datetime] = []
    it = _croniter()(cron, (until + timedelta(microseconds=1)).astimezone(zone(timezone)))
    while len(slots) < limit:
        slot = it.get_prev(datetime).astimezone(UTC)
        if slot < since:
            break
        slots.append(slot)
    return slots


def slots_to_fire(
    cron: str, timezone: str, due: datetime, now: datetime, missed: str, grace_s: float = GRACE_S
) -> tuple[builtins.list[datetime], bool]:
    """Which slots from ``due`` (the schedule's next slot) to ``now`` to start, oldest first, by the ``missed``
    policy; and whether slots were dropped because there were more than ``MAX_CATCH_UP``."""
    newest = newest_slots(cron, timezone, due, now, MAX_CATCH_UP + 1)
    if not newest:
        return [], False
    if missed == "all":
        return newest[:MAX_CATCH_UP][::-1], len(newest) > MAX_CATCH_UP
    if missed == "skip" and (now - newest[0]).total_seconds() > grace_s:
        return [], False
    return newest[:1], False


# -- the registry -------------------------------------------------------------------------------------------------


class ScheduleRegistry:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.engine = workspace.engine
        self.pipelines = PipelineRegistry(workspace)

    def create(
        self,
        name: str,
        pipeline: str,
        cron: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        version: int | None = None,
        experiment: str = "",
        engine: str = "local",
        missed: str = "latest",
        timezone: str = "UTC",
        now: datetime | None = None,
    ) -> Schedule:
        """Schedule runs of ``pipeline`` (its published version at each slot, or ``version``). The pipeline and the
        parameters are checked now, against that version."""
        validate_name(name, "schedule")
        cron = check_cron(cron)
        zone(timezone)
        if missed not in MISSED:
            raise InvalidInputError(f"unknown missed-slot policy {missed!r}: expected one of {', '.join(MISSED)}")
        if engine not in ENGINES:
            raise InvalidInputError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
        ref = parse_reference(pipeline, "pipeline")
        if ref.alias not in (None, "published"):
            raise InvalidInputError(
                f"a schedule starts a pipeline's published version or a fixed one, not @{ref.alias}"
            )
        if version is None:
            version = ref.version
        elif version < 1:
            raise InvalidInputError(f"a pipeline version is 1 or more, not {version}")
        target = self.pipelines.get(_ref(ref.name, version))
        target.pipeline.resolve_parameters(parameters)
        first = next_slot(cron, timezone, as_utc(now or utcnow()))
        try:
            with write_session(self.engine) as session:
                if session.scalars(select(ScheduleRow.id).where(ScheduleRow.name == name)).first() is not None:
                    raise ConflictError(f"a schedule named {name!r} exists already: delete it first or pick another")
                session.add(
                    ScheduleRow(
                        name=name,
                        pipeline=target.name,
                        pipeline_version=version,
                        cron=cron,
                        timezone=timezone,
                        parameters=dict(parameters or {}),
                        experiment=experiment,
                        engine=engine,
                        missed=missed,
                        paused=False,
                        next_slot=first,
                        created_at=utcnow(),
                    )
                )
        except DBIntegrityError as exc:
            raise ConflictError(f"a schedule named {name!r} exists already") from exc
        return self.get(name)

    def list(self) -> builtins.list[Schedule]:
        with read_session(self.engine) as session:
            return [_record(r) for r in session.scalars(select(ScheduleRow).order_by(ScheduleRow.name))]

    def get(self, name: str, fires: int = 0) -> Schedule:
        """A schedule, with its ``fires`` newest started slots."""
        with read_session(self.engine) as session:
            row = self._row(session, name)
            recent = session.scalars(
                select(ScheduleFireRow)
                .where(ScheduleFireRow.schedule_id == row.id)
                .order_by(ScheduleFireRow.slot.desc())
                .limit(fires)
            ).all()
            return _record(row, recent)

    def pause(self, name: str) -> Schedule:
        with write_session(self.engine) as session:
            self._row(session, name).paused = True
        return self.get(name)

    def resume(self, name: str, now: datetime | None = None) -> Schedule:
        """Start the schedule again from its next slot after now (slots passed while paused are not started)."""
        with write_session(self.engine) as session:
            row = self._row(session, name)
            row.paused = False
            row.next_slot = next_slot(row.cron, row.timezone, as_utc(now or utcnow()))
        return self.get(name)

    def delete(self, name: str) -> None:
        """Delete a schedule and its record of started slots (the runs stay)."""
        with write_session(self.engine) as session:
            row = self._row(session, name)
            session.execute(delete(ScheduleFireRow).where(ScheduleFireRow.schedule_id == row.id))
            session.delete(row)

    @staticmethod
    def _row(session: Any, name: str) -> ScheduleRow:
        row: ScheduleRow | None = session.scalars(select(ScheduleRow).where(ScheduleRow.name == name)).one_or_none()
        if row is None:
            raise ScheduleNotFoundError(name)
        return row


def _ref(pipeline: str, version: int | None) -> str:
    return f"{pipeline}@published" if version is None else f"{pipeline}:{version}"


# -- the scheduler ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fired:
    """A slot this scheduler started: its run, or why it could not be queued."""

    schedule: str
    slot: datetime
    run_id: str | None
    error: str | None = None


class Scheduler:
    """Starts the due slots of a workspace's schedules; call ``tick()`` every few seconds (or ``tick(now)`` in
    tests). Several schedulers, in any processes, may tick one database: each slot starts once."""

    def __init__(self, workspace: Workspace, grace_s: float = GRACE_S) -> None:
        self.workspace = workspace
        self.engine = workspace.engine
        self.runs = RunRegistry(workspace)
        self.grace_s = grace_s

    def tick(self, now: datetime | None = None) -> builtins.list[Fired]:
        moment = as_utc(now or utcnow())
        with read_session(self.engine) as session:
            due = [
                (_record(r), r.id)
                for r in session.scalars(
                    select(ScheduleRow)
                    .where(ScheduleRow.paused.is_(False), ScheduleRow.next_slot <= moment)
                    .order_by(ScheduleRow.next_slot)
                )
            ]
        fired: builtins.list[Fired] = []
        for schedule, schedule_id in due:
            slots, dropped = slots_to_fire(
                schedule.cron, schedule.timezone, schedule.next_slot, moment, schedule.missed, self.grace_s
            )
            if dropped:
                logger.warning(
                    "schedule %s missed more than %d slots: starting the newest %d, dropping the older ones",
                    schedule.name,
                    MAX_CATCH_UP,
                    MAX_CATCH_UP,
                )
            for slot in slots:
                result = self._fire(schedule, schedule_id, slot)
                if result is not None:
                    fired.append(result)
            self._advance(schedule_id, next_slot(schedule.cron, schedule.timezone, moment))
        return fired

    def _fire(self, schedule: Schedule, schedule_id: int, slot: datetime) -> Fired | None:
        def claim(session: Session, run_id: str | None, error: str | None = None) -> None:
            session.add(
                ScheduleFireRow(schedule_id=schedule_id, slot=slot, fired_at=utcnow(), run_id=run_id, error=error)
            )

        try:
            run = self.runs.create(
                schedule.ref,
                schedule.parameters,
                experiment=schedule.experiment,
                engine=schedule.engine,
                trigger=f"schedule:{schedule.name}",
                with_run=claim,  # the claim and the run commit together, or neither does
            )
        except DBIntegrityError:  # another scheduler claimed this slot (or the schedule was just deleted)
            return None
        except ModelportError as exc:  # the pipeline or its parameters changed since the schedule was made
            logger.error("schedule %s could not start its run for %s: %s", schedule.name, slot.isoformat(), exc.message)
            try:
                with write_session(self.engine) as session:
                    claim(session, None, exc.message)
            except DBIntegrityError:
                return None
            return Fired(schedule.name, slot, None, exc.message)
        logger.info("schedule %s started run %s for %s", schedule.name, run.id, slot.isoformat())
        return Fired(schedule.name, slot, run.id, None)

    def _advance(self, schedule_id: int, slot: datetime) -> None:
        """Move the schedule's next slot forward (never back: another scheduler may have ticked later)."""
        with write_session(self.engine) as session:
            session.execute(
                update(ScheduleRow)
                .where(ScheduleRow.id == schedule_id, ScheduleRow.next_slot < slot, ScheduleRow.paused.is_(False))
                .values(next_slot=slot)
            )


def _record(row: ScheduleRow, fires: Any = ()) -> Schedule:
    return Schedule(
        name=row.name,
        pipeline=row.pipeline,
        pipeline_version=row.pipeline_version,
        cron=row.cron,
        timezone=row.timezone,
        parameters=dict(row.parameters),
        experiment=row.experiment,
        engine=row.engine,
        missed=row.missed,
        paused=row.paused,
        next_slot=as_utc(row.next_slot),
        created_at=as_utc(row.created_at),
        fires=tuple(
            Fire(slot=as_utc(f.slot), fired_at=as_utc(f.fired_at), run_id=f.run_id, error=f.error) for f in fires
        ),
    )
