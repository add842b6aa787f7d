"""Through the real Mosquitto broker on 127.0.0.1:1883: readings published while the ingester runs, while it is
down and around a crash before an acknowledgement all end up in the output once, each window in one file; bad
messages are counted and set aside."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pandas as pd
import pytest

from modelport.batch.ingest import Ingester, Reason
from modelport.batch.ingest.mqtt import MqttSource, parse_broker_url
from modelport.errors import InvalidInputError, UnavailableError
from tests.batch.ingest.conftest import MakeSettings
from tests.batch.ingest.helpers import expected_windows, payload, read_output, readings, sensor_slice, window_files

BROKER = ("127.0.0.1", 1883)


@pytest.fixture(scope="module")
def broker() -> str:
    try:
        socket.create_connection(BROKER, timeout=2).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail("CI must run a Mosquitto broker on 127.0.0.1:1883 for the MQTT tests")
        pytest.skip("no MQTT broker on 127.0.0.1:1883 (start one: mosquitto -d)")
    return f"mqtt://{BROKER[0]}:{BROKER[1]}"


@pytest.fixture
def publisher(broker: str) -> Iterator[mqtt.Client]:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"mptest-pub-{uuid.uuid4().hex[:8]}")
    client.connect(*BROKER)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def client_id(broker: str) -> Iterator[str]:
    """A persistent session of its own, ended on the broker afterwards."""
    name = f"mptest-ingest-{uuid.uuid4().hex[:8]}"
    yield name
    cleaner = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, clean_session=True)
    cleaner.connect(*BROKER)
    cleaner.disconnect()


def publish(client: mqtt.Client, topic: str, bodies: list[bytes]) -> None:
    """Publish with QoS 1 and wait for the broker's PUBACK: from then on the broker keeps each message."""
    for info in [client.publish(topic, body, qos=1) for body in bodies]:
        info.wait_for_publish(timeout=10)
        assert info.is_published()


class Handled:
    """Hands messages to the ingester and counts them, so a test waits on a condition, not on the clock."""

    def __init__(self, ingester: Ingester, crash_after: int | None = None) -> None:
        self.ingester, self.crash_after = ingester, crash_after
        self.count = 0
        self._changed = threading.Condition()

    def __call__(self, body: bytes, source: str) -> object:
        outcome = self.ingester.submit(body, source)
        with self._changed:
            self.count += 1
            self._changed.notify_all()
            if self.count == self.crash_after:  # logged, then the process "dies" before the PUBACK
                raise RuntimeError("crash before the acknowledgement")
        return outcome

    def wait_for(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.count >= count, timeout=20), (self.count, count)


def test_a_restart_mid_stream_loses_no_reading_and_writes_no_window_twice(
    broker: str, publisher: mqtt.Client, client_id: str, make_settings: MakeSettings, tmp_path: Path
) -> None:
    frame = sensor_slice(1500)
    items = readings(frame)
    bodies = [payload(items[i : i + 15]) for i in range(0, len(items), 15)]  # 100 messages
    bodies[3:3] = [b"{not json", payload({**items[0], "Value": "high"})]  # bad ones among them
    topic = f"mptest/{client_id}/sensors"
    settings = make_settings(grace_s=20)

    first = Ingester(settings)
    handled = Handled(first, crash_after=60)
    source = MqttSource(broker, [f"mptest/{client_id}/#"], client_id, handled)
    source.start()
    publish(publisher, topic, bodies[:60])
    handled.wait_for(60)
    source.stop()  # message 60 is in the log but was never acknowledged
    first.close()
    written_first = first.stats.windows_written
    assert written_first > 0 and first.stats.rejected == {Reason.INVALID_JSON: 1, Reason.NON_NUMERIC_VALUE: 1}

    publish(publisher, topic, bodies[60:])  # while the ingester is down: the broker keeps them for its session

    second = Ingester(settings)
    assert second.stats.replayed > 0
    handled = Handled(second)
    source = MqttSource(broker, [f"mptest/{client_id}/#"], client_id, handled)
    source.start()
    handled.wait_for(len(bodies) - 60 + 1)  # the ones published while down, and message 60 once more
    source.stop()
    second.close(drain=True)

    assert second.stats.duplicates == 15  # message 60, redelivered, counted once
    got = read_output(tmp_path / "out")
    pd.testing.assert_frame_equal(got, expected_windows(frame), check_dtype=False, check_exact=False, rtol=1e-12)
    assert len(window_files(tmp_path / "out")) == frame["TS"].str[:16].nunique()
    assert written_first + second.stats.windows_written == len(window_files(tmp_path / "out"))
    [aside] = (tmp_path / "state" / "rejected").glob("*.jsonl")
    lines = [orjson.loads(line) for line in aside.read_bytes().splitlines()]
    assert [(r["reason"], r["source"]) for r in lines] == [
        (Reason.INVALID_JSON, f"mqtt:{topic}"),
        (Reason.NON_NUMERIC_VALUE, f"mqtt:{topic}"),
    ]
    assert lines[0]["reading"] == "{not json"


def test_a_broker_that_is_not_there_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:  # a port nobody listens on: bound here, never listening
        taken.bind(("127.0.0.1", 0))
        url = f"mqtt://user:secret@127.0.0.1:{taken.getsockname()[1]}"
        source = MqttSource(url, ["x/#"], "mptest-nobody", lambda body, source: None)
        with pytest.raises(UnavailableError, match="cannot connect to the MQTT broker") as caught:
            source.start(timeout=2)
    assert "secret" not in str(caught.value) and "user:***@" in str(caught.value)


@pytest.mark.parametrize("url", ["http://host:1883", "mqtt://", "mqtt://host:port"])
def test_bad_broker_urls(url: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid MQTT broker"):
        parse_broker_url(url)


def test_broker_urls() -> None:
    assert parse_broker_url("mqtt://u:p%40ss@h") == ("h", 1883, False, "u", "p@ss")
    assert parse_broker_url("mqtts://h:9000") == ("h", 9000, True, None, None)
    assert parse_broker_url("localhost") == ("localhost", 1883, False, None, None)
