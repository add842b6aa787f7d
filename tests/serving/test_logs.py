"""Structured logs: one JSON object per line, carrying the request being handled, with secrets hidden."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from modelport.serving import context, logs
from modelport.serving.logs import BufferedStreamHandler, JSONFormatter, LoggingStream, redact


def record(message: str, *args: Any, **extra: Any) -> logging.LogRecord:
    made = logging.LogRecord("modelport.test", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


@pytest.fixture
def in_request() -> Iterator[None]:
    tokens = (context.request_id.set("req-9"), context.model_name.set("clf"), context.model_version.set(3))
    yield
    context.model_version.reset(tokens[2])
    context.model_name.reset(tokens[1])
    context.request_id.reset(tokens[0])


def test_a_record_is_one_json_line() -> None:
    line = JSONFormatter().format(record('a "quoted"\nmessage with %s', "args"))

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == 'a "quoted"\nmessage with args'
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "modelport.test"
    assert entry["time"].endswith("+00:00")
    assert not {"request_id", "model", "version"} & set(entry)  # outside a request


@pytest.mark.usefixtures("in_request")
def test_the_request_being_handled_is_in_every_line() -> None:
    entry = json.loads(JSONFormatter().format(record("scored")))

    assert (entry["request_id"], entry["model"], entry["version"]) == ("req-9", "clf", 3)


def test_extra_fields_and_the_traceback_are_kept() -> None:
    try:
        raise KeyError("missing")
    except KeyError:
        made = record("failed", status=500, path="/score")
        made.exc_info = sys.exc_info()

    entry = json.loads(JSONFormatter().format(made))

    assert (entry["status"], entry["path"]) == (500, "/score")
    assert entry["traceback"].startswith("Traceback (most recent call last)")
    assert "KeyError: 'missing'" in entry["traceback"]


def test_values_json_lacks_are_written_as_text() -> None:
    entry = json.loads(JSONFormatter().format(record("odd", thing=object(), numbers={1, 2})))

    assert entry["thing"].startswith("<object object at")


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("Authorization: Bearer xyz", "xyz", "Authorization: "),
        ("authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", "authorization="),
        ("retrying with Bearer eyJhbGciOi.x-y_z", "eyJhbGciOi", "retrying with Bearer "),
        ("headers {'authorization': 'Bearer abc.def'}", "abc.def", "authorization"),
        ("calling with api_key=s3cr3t&page=2", "s3cr3t", "page=2"),
        ("API-KEY: k-123", "k-123", "API-KEY"),
        ('{"token": "tok-1", "user": "ada"}', "tok-1", '"user": "ada"'),
        ("password=hunter2 user=ada", "hunter2", "user=ada"),
        ("postgresql://ada:hunter2@db:5432/registry", "hunter2", "postgresql://ada:***@db:5432/registry"),
        ("https://user:p%40ss@store.example/bucket", "p%40ss", "https://user:***@store.example/bucket"),
    ],
)
def test_secrets_are_hidden(text: str, hidden: str, kept: str) -> None:
    redacted = redact(text)

    assert hidden not in redacted
    assert kept in redacted
    assert "***" in redacted


def test_text_without_secrets_is_unchanged() -> None:
    text = "scored 3 rows of clf:1 in 2.5 ms; see https://example.org/docs?x=1"

    assert redact(text) == text


def test_the_formatter_redacts_messages() -> None:
    entry = json.loads(JSONFormatter().format(record("connecting to %s", "postgresql://ada:hunter2@db/x")))

    assert entry["message"] == "connecting to postgresql://ada:***@db/x"


def test_a_logging_stream_logs_each_complete_line(caplog: pytest.LogCaptureFixture) -> None:
    stream = LoggingStream(logging.getLogger("modelport.script"))

    with caplog.at_level(logging.INFO, logger="modelport.script"):
        print("first line\nsecond", file=stream, end="")
        print(" line continued", file=stream)
        print("\n\n   \n", file=stream)  # blank lines are dropped
        logged_before_flush = [r.getMessage() for r in caplog.records]
        stream.write("no newline yet")
        stream.flush()

    assert logged_before_flush == ["first line", "second line continued"]
    assert [r.getMessage() for r in caplog.records] == ["first line", "second line continued", "no newline yet"]
    assert all(r.name == "modelport.script" and r.levelno == logging.INFO for r in caplog.records)


def test_configure_logs_json_and_captures_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    for flag in ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing"):  # configure turns them off
        monkeypatch.setattr(logging, flag, getattr(logging, flag))
    level = root.level
    try:
        logs.configure(logging.DEBUG)

        (handler,) = root.handlers
        assert isinstance(handler, BufferedStreamHandler)
        assert isinstance(handler.formatter, JSONFormatter)
        assert root.level == logging.DEBUG
        assert isinstance(sys.stdout, LoggingStream)
        assert logging._srcfile is None and not logging.logThreads
    finally:
        root.setLevel(level)
        root.handlers[0].close()


def _buffered(**options: Any) -> tuple[BufferedStreamHandler, io.StringIO, logging.Logger]:
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream, **options)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"modelport.test.buffered.{id(handler)}")
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    return handler, stream, logger


def test_buffered_lines_are_written_together_and_warnings_at_once() -> None:
    handler, stream, logger = _buffered(interval=60)
    try:
        logger.info("one")
        logger.info("two")
        assert stream.getvalue() == ""  # held in the buffer
        logger.warning("three")
        assert stream.getvalue() == "INFO one\nINFO two\nWARNING three\n"  # in order, with what was held
        logger.info("four")
        handler.flush()
        assert stream.getvalue().endswith("WARNING three\nINFO four\n")
    finally:
        handler.close()


def test_buffered_lines_are_written_within_the_interval_and_past_the_capacity() -> None:
    handler, stream, logger = _buffered(interval=0.05)
    try:
        logger.info("soon")
        deadline = time.monotonic() + 5
        while not stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stream.getvalue() == "INFO soon\n"
    finally:
        handler.close()
    handler, stream, logger = _buffered(interval=60, capacity=20)
    try:
        logger.info("0123456789")
        assert stream.getvalue() == ""
        logger.info("0123456789")  # 30 bytes held: over the capacity
        assert stream.getvalue() == "INFO 0123456789\n" * 2
    finally:
        handler.close()


def test_closing_writes_what_is_held() -> None:
    handler, stream, logger = _buffered(interval=60)
    logger.info("last words")
    handler.close()
    assert stream.getvalue() == "INFO last words\n"


@pytest.mark.usefixtures("in_request")
def test_access_lines_written_straight_equal_the_lines_logging_writes() -> None:
    """The access log's short way (straight to the server's own handler) and the long way (a logging record through
    the same formatter) write the same JSON."""
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream, interval=60)
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("modelport.test.access")
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    access = logs.AccessLog(logger)
    try:
        assert access._direct() is handler
        access.write("POST", "/score", 200, 0.0012345)
        other = logging.NullHandler()
        logger.addHandler(other)  # a second handler: lines must go through logging, to reach both
        assert access._direct() is None
        access.write("POST", "/score", 200, 0.0012345)
        logger.removeHandler(other)
        logger.setLevel(logging.WARNING)
        access.write("GET", "/", 200, 0.1)  # below the logger's level: no line
        handler.flush()
    finally:
        handler.close()
    straight, through = (json.loads(line) for line in stream.getvalue().splitlines())
    assert straight.pop("time")[:10] == through.pop("time")[:10]
    assert (
        straight
        == through
        == {
            "level": "INFO",
            "logger": "modelport.test.access",
            "message": "POST /score 200",
            "request_id": "req-9",
            "model": "clf",
            "version": 3,
            "method": "POST",
            "path": "/score",
            "status": 200,
            "duration_ms": 1.234,
        }
    )


def test_lines_held_at_a_fork_are_written_once_by_the_parent_not_again_by_the_child(tmp_path: Any) -> None:
    path = tmp_path / "log.txt"
    with open(path, "w") as stream:
        handler, _, logger = _buffered(interval=60)
        handler.setStream(stream)
        try:
            logger.info("before the fork")
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child
                logger.info("in the child")
                handler.flush()
                os._exit(0)
            os.waitpid(pid, 0)
            handler.flush()
        finally:
            handler.close()
    assert path.read_text().splitlines() == ["INFO before the fork", "INFO in the child"]
