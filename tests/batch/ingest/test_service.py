"""The ingester: the windows add up to what pandas says on the real sensor data, in any order; a restart, a crash
before the closing is recorded, a torn log line, and readings that come twice or too late change none of that."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pandas as pd
import pytest

from modelport.batch.ingest import Ingester, Reason
from modelport.batch.ingest.wal import StateFolder
from modelport.errors import ConflictError, InvalidInputError
from tests.batch.ingest.conftest import MakeSettings
from tests.batch.ingest.helpers import (
    expected_windows,
    payload,
    read_output,
    readings,
    sensor_slice,
    window_files,
)

SLICE = sensor_slice(1500)  # 23:00:05 to about 23:25, all 15 sensors


def _feed(ingester: Ingester, items: list[dict[str, object]], batch: int = 40) -> None:
    for start in range(0, len(items), batch):
        outcome = ingester.submit(payload(items[start : start + batch]), "test")
        assert outcome.rejected == []


def _assert_output_is(output: Path, frame: pd.DataFrame) -> None:
    got, want = read_output(output), expected_windows(frame)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_exact=False, rtol=1e-12)


def test_windows_are_mean_min_max_count_per_device_and_sensor(make_settings: MakeSettings, tmp_path: Path) -> None:
    ingester = Ingester(make_settings())
    _feed(ingester, readings(SLICE))
    ingester.close(drain=True)
    _assert_output_is(tmp_path / "out", SLICE)
    files = window_files(tmp_path / "out")
    assert len(files) == SLICE["TS"].str[:16].nunique()  # one file per minute
    assert files[0].relative_to(tmp_path / "out").as_posix() == "date=2018-08-28/20180828T230000Z-1m.parquet"
    assert ingester.stats.windows_written == len(files)


def test_the_order_readings_come_in_changes_nothing_within_the_grace(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    items = readings(SLICE)
    shuffled = items[:]
    random.Random(3).shuffle(shuffled)  # the whole slice out of order: a grace longer than the slice
    for name, order in (("sorted", items), ("shuffled", shuffled)):
        ingester = Ingester(
            make_settings(output=str(tmp_path / name), state_dir=tmp_path / f"state-{name}", grace_s=3600)
        )
        _feed(ingester, order)
        ingester.close(drain=True)
    pd.testing.assert_frame_equal(read_output(tmp_path / "sorted"), read_output(tmp_path / "shuffled"))  # exactly


def test_a_window_closes_once_a_reading_is_past_its_end_plus_the_grace(make_settings: MakeSettings) -> None:
    ingester = Ingester(make_settings(grace_s=30))
    base = {"Device": 1, "Tag": 1, "Value": 1.0}
    ingester.submit(payload([{**base, "TS": "2018-08-28 23:00:05"}, {**base, "TS": "2018-08-28 23:01:29"}]), "t")
    assert ingester.stats.windows_written == 0  # 23:01:29 < 23:01:00 + 30 s
    ingester.submit(payload({**base, "TS": "2018-08-28 23:01:30"}), "t")
    assert ingester.stats.windows_written == 1
    late = ingester.submit(payload([{**base, "TS": "2018-08-28 23:00:59"}]), "t")
    assert [(r.reason, r.detail) for r in late.rejected] == [
        (Reason.LATE, "its window 2018-08-28T23:00:00Z is written")
    ]
    ingester.close()


def test_a_restart_mid_stream_loses_nothing_and_writes_each_window_once(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    items = readings(SLICE)
    settings = make_settings(grace_s=20)
    ingester = Ingester(settings)
    _feed(ingester, items[:700])
    written_before = ingester.stats.windows_written
    assert written_before > 0 and ingester.open_windows > 0
    ingester.close()  # open windows stay in the log

    again = Ingester(settings)
    assert again.stats.replayed > 0 and again.open_windows > 0
    _feed(again, items[650:])  # the 50 readings around the stop come twice (a redelivery): counted once
    assert again.stats.duplicates == 50
    again.close(drain=True)
    _assert_output_is(tmp_path / "out", SLICE)
    assert written_before + again.stats.windows_written == len(window_files(tmp_path / "out"))


def test_a_crash_after_writing_but_before_recording_rewrites_the_same_file(
    make_settings: MakeSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = readings(SLICE)
    settings = make_settings()
    ingester = Ingester(settings)
    _feed(ingester, items[:300])
    files = window_files(tmp_path / "out")
    assert files

    def crash(self: StateFolder) -> None:
        raise KeyboardInterrupt("the power went out")

    monkeypatch.setattr(StateFolder, "save_state", crash)
    with pytest.raises(KeyboardInterrupt):  # the window file is written, the closing not recorded
        ingester.submit(payload(items[300:400]), "test")
    assert len(window_files(tmp_path / "out")) > len(files)
    ingester.state.close()  # the process is gone: only its files remain
    monkeypatch.undo()

    again = Ingester(settings)
    _feed(again, items[400:])
    again.close(drain=True)
    _assert_output_is(tmp_path / "out", SLICE)  # every window once, with every reading once
    assert len(window_files(tmp_path / "out")) == SLICE["TS"].str[:16].nunique()


def test_written_windows_leave_the_log(make_settings: MakeSettings, tmp_path: Path) -> None:
    ingester = Ingester(make_settings())
    _feed(ingester, readings(SLICE), batch=15)
    segments = sorted((tmp_path / "state" / "wal").glob("*.jsonl"))
    logged = sum(len(p.read_bytes().splitlines()) for p in segments)
    assert logged < 100 < len(SLICE)  # the open window's readings and little more
    assert len(segments) <= 3
    ingester.close()


def test_a_torn_last_line_of_the_log_is_skipped(make_settings: MakeSettings, tmp_path: Path) -> None:
    settings = make_settings()
    ingester = Ingester(settings)
    ingester.submit(payload(readings(SLICE.head(5))), "test")
    ingester.close()
    [segment] = [p for p in (tmp_path / "state" / "wal").glob("*.jsonl") if p.stat().st_size]
    with segment.open("ab") as log:
        log.write(b'[1535497205000000,"1","5",10')  # a crash in the middle of a write
    again = Ingester(settings)
    assert again.stats.replayed == 5
    again.close()


def test_a_reading_twice_counts_once_and_a_conflicting_one_is_set_aside(make_settings: MakeSettings) -> None:
    ingester = Ingester(make_settings())
    one = {"TS": "2018-08-28 23:00:05", "Device": 1, "Tag": 1, "Value": 10.0}
    outcome = ingester.submit(payload([one, one, {**one, "Value": 11.0}]), "test")
    assert (outcome.accepted, outcome.duplicates) == (1, 1)
    assert [(r.index, r.reason) for r in outcome.rejected] == [(2, Reason.CONFLICT)]
    assert ingester.stats.rejected == {Reason.CONFLICT: 1}
    ingester.close()


def test_the_state_folder_belongs_to_one_ingester_with_one_window(make_settings: MakeSettings) -> None:
    ingester = Ingester(make_settings())
    with pytest.raises(ConflictError, match="another ingester"):
        Ingester(make_settings())
    ingester.close()
    with pytest.raises(InvalidInputError, match="60s windows"):
        Ingester(make_settings(window_s=300))


def test_idle_close_writes_the_open_windows(make_settings: MakeSettings, tmp_path: Path) -> None:
    ingester = Ingester(make_settings(idle_close_s=0.001))
    ingester.submit(payload(readings(SLICE.head(30))), "test")
    ingester._last_reading -= 1  # as if a second had passed without readings
    ingester.tick()
    assert ingester.open_windows == 0
    _assert_output_is(tmp_path / "out", SLICE.head(30))
    ingester.close()


def test_a_reading_from_the_future_cannot_close_every_window(make_settings: MakeSettings) -> None:
    ingester = Ingester(make_settings())
    ingester.submit(payload(readings(SLICE.head(15))), "test")
    outcome = ingester.submit(payload([{"TS": "2999-01-01T00:00:00Z", "Device": 9, "Tag": 9, "Value": 1.0}]), "t")
    assert [r.reason for r in outcome.rejected] == [Reason.BAD_TIMESTAMP]
    assert "ahead of this machine's clock" in outcome.rejected[0].detail
    assert ingester.stats.windows_written == 0 and ingester.open_windows == 1
    ingester.close()


def test_concurrent_writers_share_fsyncs_and_every_acknowledged_reading_is_in_the_log(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit: eight threads submitting at once need far fewer fsyncs than submits (a slow disk makes
    them overlap), and once each submit has returned its readings are on the disk: a new ingester reads them all
    back from the log."""
    import threading

    import modelport.batch.ingest.wal as wal

    real_fsync, calls = wal.os.fsync, []

    def slow_fsync(fd: int) -> None:
        calls.append(fd)
        time.sleep(0.005)
        real_fsync(fd)

    monkeypatch.setattr(wal.os, "fsync", slow_fsync)
    settings = make_settings(grace_s=3600)  # nothing closes: every reading stays in the log
    ingester = Ingester(settings)
    items = readings(SLICE)[:400]
    chunks = [items[i::8] for i in range(8)]
    submits = 0

    def feed(chunk: list[dict[str, object]]) -> None:
        nonlocal submits
        for item in chunk:
            assert ingester.submit(payload(item), "test").accepted == 1
            submits += 1

    threads = [threading.Thread(target=feed, args=(chunk,)) for chunk in chunks]
    before = len(calls)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fsyncs = len(calls) - before
    assert submits == 400 and fsyncs < 200, f"{fsyncs} fsyncs for 400 submits"
    ingester.state.close()  # as a crash would: nothing flushed, nothing drained

    again = Ingester(settings)
    assert again.stats.replayed == 400
    again.close()


def test_after_a_failed_fsync_every_later_sync_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel may drop the pages an fsync could not write and mark them clean, so that the next fsync succeeds
    without them: a writer waiting behind the failed fsync must not be told its readings are on the disk."""
    import threading

    import modelport.batch.ingest.wal as wal
    from modelport.batch.ingest.readings import Reading

    state = StateFolder(tmp_path / "state", 60_000_000, str(tmp_path / "out"))
    list(state.replay())
    real_fsync, calls = wal.os.fsync, []

    def failing_once(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            time.sleep(0.2)  # the second writer comes while this one is on the disk
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(wal.os, "fsync", failing_once)
    outcomes: dict[str, str] = {}

    def sync(name: str, position: int) -> None:
        try:
            state.sync(position)
            outcomes[name] = "synced"
        except OSError as exc:
            outcomes[name] = str(exc)

    first = threading.Thread(target=sync, args=("first", state.write([Reading(1, "d", "t", 1.0)])))
    first.start()
    time.sleep(0.05)
    second = threading.Thread(target=sync, args=("second", state.write([Reading(2, "d", "t", 2.0)])))
    second.start()
    first.join()
    second.join()
    assert outcomes == {
        "first": "[Errno 5] Input/output error",
        "second": "[Errno 5] an earlier fsync of the log failed: Input/output error",
    }
    assert len(calls) == 1  # no second fsync that could have succeeded without the dropped pages
    with pytest.raises(OSError, match="an earlier fsync of the log failed"):
        state.rotate()
    state.close()


def test_the_public_names_of_ingest_are_pinned() -> None:
    import modelport.batch.ingest as ingest

    assert sorted(ingest.__all__) == [
        "IngestSettings",
        "Ingester",
        "Outcome",
        "Reading",
        "Reason",
        "Rejection",
        "Stats",
        "parse_duration",
        "parse_payload",
    ]
