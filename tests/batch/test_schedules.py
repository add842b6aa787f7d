"""Schedules: checked when created; the scheduler starts each due slot once, by the missed-slot policy, however
many schedulers tick one database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from modelport import Workspace
from modelport.batch import RunRegistry
from modelport.batch.schedules import MAX_CATCH_UP, Scheduler, ScheduleRegistry, newest_slots, slots_to_fire
from modelport.errors import ConflictError, InvalidInputError, NotFoundError
from modelport.registry.db import read_session
from modelport.registry.tables import ScheduleFireRow, ScheduleRow
from tests.batch.hello import register_hello

T0 = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def hello(workspace: Workspace, tmp_path: Path) -> Workspace:
    register_hello(workspace, tmp_path / "hello")
    return workspace


def test_a_schedule_starts_its_slot_once_with_its_parameters(hello: Workspace) -> None:
    schedules = ScheduleRegistry(hello)
    schedule = schedules.create("hourly", "hello", "0 * * * *", {"who": "cron"}, now=T0)
    assert schedule.next_slot == datetime(2026, 12, 2, 10, tzinfo=UTC)
    scheduler = Scheduler(hello)

    assert scheduler.tick(T0 + timedelta(minutes=29)) == []
    fired = scheduler.tick(T0 + timedelta(minutes=30, seconds=3))
    again = scheduler.tick(T0 + timedelta(minutes=31))

    assert [(f.schedule, f.slot) for f in fired] == [("hourly", datetime(2026, 12, 2, 10, tzinfo=UTC))]
    assert again == []
    run = RunRegistry(hello).get(str(fired[0].run_id))
    assert (run.status, run.trigger, run.parameters) == ("queued", "schedule:hourly", {"who": "cron"})
    shown = schedules.get("hourly", fires=5)
    assert shown.next_slot == datetime(2026, 12, 2, 11, tzinfo=UTC)
    assert [(f.run_id, f.error) for f in shown.fires] == [(run.id, None)]


@pytest.mark.parametrize(
    ("missed", "expected"),
    [("latest", ["12:00"]), ("skip", []), ("all", ["10:00", "11:00", "12:00"])],
)
def test_missed_slots_follow_the_policy(hello: Workspace, missed: str, expected: list[str]) -> None:
    ScheduleRegistry(hello).create("s", "hello", "0 * * * *", missed=missed, now=T0)

    fired = Scheduler(hello).tick(datetime(2026, 12, 2, 12, 20, tzinfo=UTC))  # down from 9:30 to 12:20

    assert [f.slot.strftime("%H:%M") for f in fired] == expected
    assert ScheduleRegistry(hello).get("s").next_slot == datetime(2026, 12, 2, 13, tzinfo=UTC)


def test_skip_still_starts_a_slot_that_is_on_time() -> None:
    slots, _ = slots_to_fire("0 * * * *", "UTC", T0, datetime(2026, 12, 2, 10, 0, 30, tzinfo=UTC), "skip")
    assert slots == [datetime(2026, 12, 2, 10, tzinfo=UTC)]


def test_catching_up_all_is_capped_to_the_newest_slots() -> None:
    now = T0 + timedelta(days=1)
    slots, dropped = slots_to_fire("* * * * *", "UTC", T0, now, "all")

    assert dropped and len(slots) == MAX_CATCH_UP
    assert slots[-1] == now and slots[0] == now - timedelta(minutes=MAX_CATCH_UP - 1)


def test_slots_are_read_in_the_schedules_timezone() -> None:
    slots = newest_slots("0 6 * * *", "Europe/Paris", T0 - timedelta(days=2), T0, 5)
    assert slots == [datetime(2026, 12, 2, 5, tzinfo=UTC), datetime(2026, 12, 1, 5, tzinfo=UTC)]


def test_pause_starts_nothing_and_resume_starts_from_now(hello: Workspace) -> None:
    schedules, scheduler = ScheduleRegistry(hello), Scheduler(hello)
    schedules.create("s", "hello", "0 * * * *", missed="all", now=T0)
    schedules.pause("s")

    assert scheduler.tick(T0 + timedelta(hours=3)) == []
    resumed = schedules.resume("s", now=T0 + timedelta(hours=3))
    assert resumed.next_slot == datetime(2026, 12, 2, 13, tzinfo=UTC)
    assert scheduler.tick(T0 + timedelta(hours=3, minutes=1)) == []


def test_a_run_that_cannot_be_created_is_recorded_on_the_slot(hello: Workspace) -> None:
    ScheduleRegistry(hello).create("s", "hello", "0 * * * *", {"who": "x"}, version=1, now=T0)
    with hello.engine.begin() as conn:  # the version's parameter went away (as if its definition changed)
        conn.execute(ScheduleRow.__table__.update().values(parameters={"nope": 1}))

    (fired,) = Scheduler(hello).tick(T0 + timedelta(hours=1))

    assert fired.run_id is None and fired.error is not None and "nope" in fired.error
    assert ScheduleRegistry(hello).get("s", fires=1).fires[0].error == fired.error


def test_a_slot_claimed_elsewhere_queues_no_run_and_a_failed_claim_leaves_no_run(hello: Workspace) -> None:
    """The claim of a slot and its run commit together: a slot another scheduler holds writes no run, and a claim
    that fails (as a scheduler stopped mid-way would) leaves neither row, so the next tick starts the slot."""
    ScheduleRegistry(hello).create("s", "hello", "0 * * * *", {"who": "x"}, now=T0)
    slot = datetime(2026, 12, 2, 10, tzinfo=UTC)
    runs = RunRegistry(hello)

    def broken_claim(session: object, run_id: str) -> None:
        raise RuntimeError("the scheduler stopped here")

    with pytest.raises(RuntimeError):
        runs.create("hello", {"who": "x"}, with_run=broken_claim)
    assert runs.list() == []

    with hello.engine.begin() as conn:  # another scheduler's claim, committed first
        sid = conn.execute(select(ScheduleRow.id)).scalar_one()
        conn.execute(ScheduleFireRow.__table__.insert().values(schedule_id=sid, slot=slot, fired_at=T0))
    assert Scheduler(hello).tick(T0 + timedelta(minutes=31)) == []
    assert runs.list() == []  # the losing scheduler's run was rolled back with its claim

    next_slot = slot + timedelta(hours=1)
    (fired,) = Scheduler(hello).tick(next_slot + timedelta(seconds=5))
    assert fired.slot == next_slot and [r.id for r in runs.list()] == [fired.run_id]


def test_creating_checks_everything(hello: Workspace, tmp_path: Path) -> None:
    schedules = ScheduleRegistry(hello)
    bad = [
        ({"cron": "every hour"}, InvalidInputError),
        ({"cron": "0 * * * * *"}, InvalidInputError),  # seconds are not a cron field here
        ({"parameters": {"nope": 1}}, InvalidInputError),
        ({"pipeline": "missing"}, NotFoundError),
        ({"version": 7}, NotFoundError),
        ({"missed": "sometimes"}, InvalidInputError),
        ({"timezone": "Mars/Olympus"}, InvalidInputError),
        ({"engine": "spark"}, InvalidInputError),
    ]
    for change, error in bad:
        args = {"name": "s", "pipeline": "hello", "cron": "@hourly", **change}
        with pytest.raises(error):
            schedules.create(**args)  # type: ignore[arg-type]
    schedules.create("s", "hello:1", "@hourly")
    assert schedules.get("s").pipeline_version == 1
    with pytest.raises(ConflictError):
        schedules.create("s", "hello", "@hourly")
    schedules.delete("s")
    assert schedules.list() == []


def test_an_unpublished_pipeline_cannot_be_scheduled_by_name(workspace: Workspace, tmp_path: Path) -> None:
    register_hello(workspace, tmp_path / "hello", publish=False)
    with pytest.raises(NotFoundError, match="published"):
        ScheduleRegistry(workspace).create("s", "hello", "@hourly")


def test_two_schedulers_on_one_database_start_each_slot_once(hello: Workspace, tmp_path: Path) -> None:
    """The issue's guarantee: schedulers in two workspaces (two connection pools, as two servers) ticking the same
    moment at once start every slot exactly once."""
    ScheduleRegistry(hello).create("every-minute", "hello", "* * * * *", missed="all", now=T0)
    ScheduleRegistry(hello).create("hourly", "hello", "0 * * * *", now=T0)
    other = Workspace(tmp_path / "other", db_url=str(hello.engine.url.render_as_string(hide_password=False)))
    schedulers = [Scheduler(hello), Scheduler(other)]
    moments = [T0 + timedelta(minutes=m, seconds=5) for m in (10, 11, 40)]
    barrier = threading.Barrier(len(schedulers))
    errors: list[BaseException] = []

    def tick(scheduler: Scheduler) -> None:
        try:
            for moment in moments:
                barrier.wait(timeout=60)
                scheduler.tick(moment)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    other.close()

    assert errors == []
    with read_session(hello.engine) as session:
        fires = session.execute(select(ScheduleFireRow.slot, ScheduleFireRow.run_id)).all()
        per_slot = session.execute(
            select(ScheduleFireRow.schedule_id, ScheduleFireRow.slot, func.count()).group_by(
                ScheduleFireRow.schedule_id, ScheduleFireRow.slot
            )
        ).all()
    runs = RunRegistry(hello).list(limit=1000)
    assert len(fires) == 40 + 1  # every minute 9:31..10:10, and 10:00 hourly
    assert all(count == 1 for *_, count in per_slot)
    assert sorted(r.id for r in runs) == sorted(str(run_id) for _, run_id in fires)
