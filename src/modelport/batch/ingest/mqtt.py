"""Readings from an MQTT broker, acknowledged only once they are durable.

The client keeps a persistent session (``clean_session=False`` under a fixed client id) and subscribes with QoS 1,
so the broker keeps the messages that come while the ingester is down and delivers them when it is back. Messages
are acknowledged by hand (paho-mqtt's ``manual_ack``): the PUBACK goes out only once every reading of the message
is in the fsynced log or set aside. A message that could not be made durable is not acknowledged, and the broker
delivers it again on the next connection.

With a ``sync`` function, the network thread only queues messages; a writer thread takes what has queued (up to
``BATCH`` messages: the broker sends at most its in-flight limit, 20 by default in Mosquitto, before it waits for
PUBACKs), writes each with ``handler``, which returns how far the log must be durable, makes the log durable with
one ``sync`` for all of them, then acknowledges them in the order they came (as MQTT asks).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from ...errors import InvalidInputError, MissingDependencyError, UnavailableError
from .settings import hide_password

logger = logging.getLogger(__name__)

Handler = Callable[[bytes, str], Any]
BATCH = 256


def _paho() -> Any:
    try:
        import paho.mqtt.client as mqtt
    except ImportError as exc:
        raise MissingDependencyError("paho-mqtt", "batch", "reading from MQTT") from exc
    return mqtt


def parse_broker_url(url: str) -> tuple[str, int, bool, str | None, str | None]:
    """``mqtt://[user[:password]@]host[:port]`` (``mqtts://`` for TLS) to host, port, tls, user, password."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise InvalidInputError(f"invalid MQTT broker {hide_password(url)!r}: expected mqtt://host:port")
    tls = parts.scheme in ("mqtts", "ssl")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise InvalidInputError(f"invalid MQTT broker {hide_password(url)!r}: bad port") from exc
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return parts.hostname, port, tls, user, password


class MqttSource:
    """Subscribe to ``topics`` on the broker at ``url`` and hand each message to ``handler(payload, source)``: one
    that returns once the message is durable, or, with ``sync``, one that returns the log position ``sync`` makes
    durable (see the module's text)."""

    def __init__(
        self,
        url: str,
        topics: Sequence[str],
        client_id: str,
        handler: Handler,
        sync: Callable[[int], None] | None = None,
    ) -> None:
        mqtt = _paho()
        self.url = url
        self.topics = list(topics)
        self.host, self.port, tls, user, password = parse_broker_url(url)
        self._handler = handler
        self._sync = sync
        self._queue: queue.Queue[Any] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._subscribed = threading.Event()
        self._disconnected = threading.Event()
        self._refused: str | None = None
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if user is not None:
            self.client.username_pw_set(user, password)
        if tls:
            self.client.tls_set()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            self._subscribed.set()
            logger.error("the MQTT broker %s refused the connection: %s", hide_password(self.url), reason)
            return
        logger.info("connected to %s (session present: %s)", hide_password(self.url), flags.session_present)
        client.subscribe([(topic, 1) for topic in self.topics])

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        failed = [str(r) for r in reasons if r.is_failure]
        if failed:
            logger.error("the MQTT broker refused the subscription to %s: %s", self.topics, ", ".join(failed))
        self._subscribed.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._disconnected.set()
        if reason.is_failure:
            logger.warning("disconnected from the MQTT broker (%s); reconnecting", reason)

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        if self._sync is not None:
            self._queue.put(message)  # the writer thread stores, syncs and acknowledges
            return
        try:
            self._handler(message.payload, _source(message))
        except Exception:  # not durable: no PUBACK, so the broker delivers it again
            logger.exception("a message on %s could not be stored and is not acknowledged", message.topic)
            return
        client.ack(message.mid, message.qos)

    def _write_batches(self) -> None:
        assert self._sync is not None
        while True:
            batch = [self._queue.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = None in batch
            messages = [m for m in batch if m is not None]
            stored: list[Any] = []
            positions: list[Any] = []
            for message in messages:
                try:
                    positions.append(self._handler(message.payload, _source(message)))
                    stored.append(message)
                except Exception:  # not durable: no PUBACK, so the broker delivers it again
                    logger.exception("a message on %s could not be stored and is not acknowledged", message.topic)
            try:
                if positions:
                    self._sync(max(positions))
            except Exception:
                logger.exception("the log could not be synced: %d messages are not acknowledged", len(stored))
                stored = []
            for message in stored:  # in the order they came
                self.client.ack(message.mid, message.qos)
            if stopping:
                return

    def start(self, timeout: float = 10.0) -> None:
        """Connect, subscribe, and read messages from a background thread."""
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise UnavailableError(
                f"cannot connect to the MQTT broker {hide_password(self.url)}: {exc.strerror or exc}"
            ) from exc
        if self._sync is not None:
            self._writer = threading.Thread(target=self._write_batches, name="modelport-mqtt-writer", daemon=True)
            self._writer.start()
        self.client.loop_start()
        if not self._subscribed.wait(timeout) or self._refused is not None:
            self.stop()
            why = self._refused or f"no answer in {timeout:g}s"
            raise UnavailableError(f"the MQTT broker {hide_password(self.url)} did not take the subscription: {why}")

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect once the acknowledgements queued so far are sent (the network thread writes them before the
        DISCONNECT; stopping it sooner would drop them, and the broker would deliver those messages again).
        Messages not acknowledged are delivered again on the next start."""
        if self._writer is not None:  # store and acknowledge what has come, then stop writing
            self._queue.put(None)
            self._writer.join(timeout)
            self._writer = None
        self._disconnected.clear()
        if self.client.disconnect() == 0:
            self._disconnected.wait(timeout)
        self.client.loop_stop()


def _source(message: Any) -> str:
    return f"mqtt:{message.topic}" + (" (redelivered)" if message.dup else "")
