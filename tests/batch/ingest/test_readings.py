"""Readings: the forms a good one takes, and each reason a bad one is set aside for."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from modelport.batch.ingest import Reading, Reason, parse_payload
from modelport.batch.ingest.readings import check_reading, format_ts

GOOD = {"TS": "2018-08-28 23:00:05.000", "Device": 1, "Tag": 4, "Value": 84.53}
TS_US = 1535497205 * 1_000_000


@pytest.mark.parametrize(
    "ts",
    ["2018-08-28 23:00:05.000", "2018-08-28T23:00:05Z", "2018-08-29T01:00:05+02:00", 1535497205, 1535497205.0],
)
def test_the_forms_of_ts_are_one_instant(ts: Any) -> None:
    assert check_reading({**GOOD, "TS": ts}) == Reading(TS_US, "1", "4", 84.53)


def test_device_and_tag_are_strings_whether_sent_as_integers_or_strings() -> None:
    assert check_reading({**GOOD, "Device": "1", "Tag": "pressure", "Value": 3}) == Reading(TS_US, "1", "pressure", 3.0)


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"TS": GOOD["TS"], "Device": 1, "Tag": 4}, Reason.MISSING_FIELD),
        ({**GOOD, "Value": None}, Reason.MISSING_FIELD),
        ({**GOOD, "Value": "84.5"}, Reason.NON_NUMERIC_VALUE),
        ({**GOOD, "Value": "high"}, Reason.NON_NUMERIC_VALUE),
        ({**GOOD, "Value": True}, Reason.NON_NUMERIC_VALUE),
        ({**GOOD, "Value": [1.0]}, Reason.NON_NUMERIC_VALUE),
        ({**GOOD, "Device": True}, Reason.WRONG_TYPE),
        ({**GOOD, "Device": 1.5}, Reason.WRONG_TYPE),
        ({**GOOD, "Tag": {"id": 4}}, Reason.WRONG_TYPE),
        ({**GOOD, "Tag": "  "}, Reason.WRONG_TYPE),
        ({**GOOD, "TS": [2018]}, Reason.WRONG_TYPE),
        ({**GOOD, "TS": "yesterday"}, Reason.BAD_TIMESTAMP),
        ({**GOOD, "TS": 1e300}, Reason.BAD_TIMESTAMP),
        ("a string", Reason.NOT_A_READING),
        (42, Reason.NOT_A_READING),
    ],
)
def test_bad_readings_get_a_reason(item: Any, reason: str) -> None:
    parsed = parse_payload(orjson.dumps([GOOD, item]))
    assert parsed.is_list
    assert [i for i, _ in parsed.readings] == [0]
    [rejection] = parsed.rejections
    assert (rejection.index, rejection.reason) == (1, reason)
    assert rejection.detail
    assert rejection.raw == item


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"TS": "2018-08-28", "Value": NaN}', Reason.INVALID_JSON),
        (b'{"TS": "2018-08-28", "Device": 1, "Tag": 1, "Value": 1e999}', Reason.INVALID_JSON),  # infinite
        (b"\xff\xfe not even text", Reason.INVALID_JSON),
        (b"[]", Reason.EMPTY),
        (b'{"Device": 1}', Reason.MISSING_FIELD),
    ],
)
def test_a_wholly_bad_payload_is_one_rejection(body: bytes, reason: str) -> None:
    parsed = parse_payload(body)
    assert not parsed.is_list and parsed.readings == []
    assert [r.reason for r in parsed.rejections] == [reason]


def test_one_reading_is_not_a_list() -> None:
    parsed = parse_payload(orjson.dumps(GOOD))
    assert not parsed.is_list and parsed.readings == [(0, Reading(TS_US, "1", "4", 84.53))]


def test_format_ts() -> None:
    assert format_ts(TS_US) == "2018-08-28T23:00:05Z"
    assert format_ts(TS_US + 500_000) == "2018-08-28T23:00:05.500000Z"
