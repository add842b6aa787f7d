"""Readings ``{"TS": ..., "Device": ..., "Tag": ..., "Value": ...}``: parsing and validation.

A payload (an MQTT message or an HTTP body) holds one reading (a JSON object) or a list of them. Each one is either a
``Reading`` or a ``Rejection`` that says why, never an exception:

- ``TS``: an ISO 8601 string (``2018-08-28 23:00:05.000``, ``2018-08-28T23:00:05Z``, ``...+02:00``; without an offset
  it is UTC) or a number of seconds since the Unix epoch;
- ``Device`` and ``Tag``: a non-empty string or an integer, kept as a string (``1`` and ``"1"`` are one sensor);
- ``Value``: a finite JSON number.

Other fields are ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

FIELDS = ("TS", "Device", "Tag", "Value")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Reason:
    """The reasons a reading is set aside (stable names, counted per reason)."""

    INVALID_JSON = "invalid_json"
    NOT_A_READING = "not_a_reading"
    EMPTY = "empty"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    NON_NUMERIC_VALUE = "non_numeric_value"
    NON_FINITE_VALUE = "non_finite_value"
    BAD_TIMESTAMP = "bad_timestamp"
    LATE = "late"
    CONFLICT = "conflicting_duplicate"


@dataclass(frozen=True, slots=True)
class Reading:
    """One valid reading; ``ts_us`` is microseconds since the Unix epoch (UTC), exact."""

    ts_us: int
    device: str
    tag: str
    value: float

    def to_json(self) -> dict[str, Any]:
        return {"TS": format_ts(self.ts_us), "Device": self.device, "Tag": self.tag, "Value": self.value}


@dataclass(frozen=True, slots=True)
class Rejection:
    """A reading set aside: its index in the payload (0 for a single reading), the reason, a readable detail and the
    reading as it came (``raw``: the parsed JSON value, or the text when it was not JSON)."""

    index: int
    reason: str
    detail: str
    raw: Any


def format_ts(ts_us: int) -> str:
    """ISO 8601 in UTC with a ``Z``, to the microsecond when there are any."""
    moment = datetime.fromtimestamp(ts_us // 1_000_000, tz=UTC).replace(microsecond=ts_us % 1_000_000)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{ts_us % 1_000_000:06d}Z" if ts_us % 1_000_000 else f"{text}Z"


def _parse_ts(value: Any) -> int | str:
    """Microseconds since the epoch, or the reason (a string starting with a reason name) it is not a timestamp."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return f"{Reason.WRONG_TYPE}:TS must be an ISO 8601 string or a number of seconds, not {_kind(value)}"
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > 253402300799:  # up to the year 9999
            return f"{Reason.BAD_TIMESTAMP}:TS {value!r} is out of range"
        return round(value * 1_000_000) if isinstance(value, float) else value * 1_000_000
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return f"{Reason.BAD_TIMESTAMP}:TS {value[:64]!r} is not an ISO 8601 time"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}.get(type(value), "a number")


def _key(value: Any, name: str) -> str | tuple[str, str]:
    """``Device``/``Tag`` as a string, or (reason, detail)."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return (Reason.WRONG_TYPE, f"{name} must not be empty")
    return (Reason.WRONG_TYPE, f"{name} must be a string or an integer, not {_kind(value)}")


def check_reading(item: Any, index: int = 0) -> Reading | Rejection:
    """One JSON value as a reading, or why it is not one."""
    if not isinstance(item, dict):
        return Rejection(index, Reason.NOT_A_READING, f"a reading is a JSON object, not {_kind(item)}", item)
    missing = [f for f in FIELDS if item.get(f) is None]
    if missing:
        return Rejection(index, Reason.MISSING_FIELD, f"missing {', '.join(missing)}", item)
    ts = _parse_ts(item["TS"])
    if isinstance(ts, str):
        reason, _, detail = ts.partition(":")
        return Rejection(index, reason, detail, item)
    keys: list[str] = []
    for name in ("Device", "Tag"):
        key = _key(item[name], name)
        if isinstance(key, tuple):
            return Rejection(index, key[0], key[1], item)
        keys.append(key)
    value = item["Value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Rejection(index, Reason.NON_NUMERIC_VALUE, f"Value must be a number, not {_kind(value)}", item)
    number = float(value)
    if not math.isfinite(number):
        return Rejection(index, Reason.NON_FINITE_VALUE, f"Value {value!r} is not finite", item)
    return Reading(ts, keys[0], keys[1], number)


@dataclass(slots=True)
class Parsed:
    """One payload: its valid readings with their index, its rejected ones, and whether it was a list (``False``:
    one reading, or not even that: invalid JSON, an empty list, a value that is neither an object nor a list)."""

    readings: list[tuple[int, Reading]]
    rejections: list[Rejection]
    is_list: bool


def parse_payload(payload: bytes | str) -> Parsed:
    """Parse one MQTT message or HTTP body; never raises for bad content."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        text = payload if isinstance(payload, str) else payload.decode("utf-8", errors="replace")
        return Parsed([], [Rejection(0, Reason.INVALID_JSON, f"not valid JSON: {exc}", text[:1000])], False)
    if isinstance(data, list):
        if not data:
            return Parsed([], [Rejection(0, Reason.EMPTY, "an empty list of readings", data)], False)
        checked = [check_reading(item, i) for i, item in enumerate(data)]
        return Parsed(
            [(i, r) for i, r in enumerate(checked) if isinstance(r, Reading)],
            [r for r in checked if isinstance(r, Rejection)],
            True,
        )
    one = check_reading(data)
    return Parsed([(0, one)], [], False) if isinstance(one, Reading) else Parsed([], [one], False)
