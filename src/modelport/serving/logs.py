"""Structured logs: one JSON object per line, built with a JSON encoder from a dict, carrying the request id and
model of the request being handled; and a stream that turns a scoring script's ``print`` into such lines."""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from . import context

# the value may start with an auth scheme ("Authorization: Bearer xyz"): it goes too, or the token would be left
_SECRET = re.compile(
    r"(?i)(authorization|bearer|api[_-]?key|token|password|secret)([\"']?\s*[:=]\s*[\"']?)"
    r"((?:bearer\s+|basic\s+)?[^\s\"',&]+)"
)
_BEARER = re.compile(r"(?i)(\bbearer\s+)([^\s\"',&]+)")  # a bearer token on its own: "sent Bearer xyz"
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


_ANY_SECRET = re.compile(r"(?i)authorization|bearer|api[_-]?key|token|password|secret|://")  # what the three find


def redact(text: str) -> str:
    """Hide keys, tokens and passwords (in ``key=value`` forms and in URLs)."""
    if _ANY_SECRET.search(text) is None:  # most lines: one scan instead of three substitutions
        return text
    return _URL_PASSWORD.sub(r"\1***\3", _BEARER.sub(r"\1***", _SECRET.sub(r"\1\2***", text)))


class JSONFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, message, request id, model, any ``extra`` fields,
    and the traceback when there is one."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def _time(self, created: float) -> str:
        """ISO 8601 UTC with milliseconds; the part up to the second is made once per second (a server writes a
        line per request)."""
        second = int(created)
        if second != self._second:
            self._stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        return f"{self._stamp}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        fields = vars(record)
        extra = {key: fields[key] for key in fields.keys() - _STANDARD if not key.startswith("_")}
        traceback = self.formatException(record.exc_info) if record.exc_info else None
        return self.line(record.created, record.levelname, record.name, record.getMessage(), extra, traceback)

    def line(
        self,
        created: float,
        level: str,
        name: str,
        message: str,
        extra: Mapping[str, Any],
        traceback: str | None = None,
    ) -> str:
        """The JSON line of one log entry (``format`` of a record, or of an entry made without one)."""
        entry: dict[str, Any] = {
            "time": self._time(created),
            "level": level,
            "logger": name,
            "message": redact(message),
        }
        for key, var in (
            ("request_id", context.request_id),
            ("model", context.model_name),
            ("version", context.model_version),
        ):
            value = var.get()
            if value is not None:
                entry[key] = value
        entry.update(extra)
        if traceback is not None:
            entry["traceback"] = traceback
        return orjson.dumps(entry, default=str).decode()


class LoggingStream(io.TextIOBase):
    """A text stream that logs each complete line (what a scoring script prints) at INFO."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._buffer = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            if line.strip():
                self.logger.info(line)
        return len(text)

    def flush(self) -> None:
        if self._buffer.strip():
            self.logger.info(self._buffer)
        self._buffer = ""


class BufferedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes lines in batches rather than one write per line: what is buffered is written
    every ``interval`` seconds (by a background thread), when the buffer reaches ``capacity`` bytes, at once for a
    warning or worse, and when flushed or closed (at exit). A busy server logs a line per request; a system call
    per line was a seventh of its time."""

    def __init__(self, stream: Any, interval: float = 0.2, capacity: int = 64 * 1024) -> None:
        super().__init__(stream)
        self.interval = interval
        self.capacity = capacity
        self._lines: list[str] = []
        self._size = 0
        self._stopped = threading.Event()
        self._start_flusher()
        # what is held is written before a fork, or each worker would write its copy of it too
        os.register_at_fork(before=self.flush, after_in_child=self._after_fork)

    def _start_flusher(self) -> None:
        threading.Thread(target=self._flush_periodically, name="modelport-log-flush", daemon=True).start()

    def _after_fork(self) -> None:  # threads do not survive a fork: each worker needs a flusher of its own
        self._lines, self._size = [], 0
        if not self._stopped.is_set():
            self._start_flusher()

    def _flush_periodically(self) -> None:
        while not self._stopped.wait(self.interval):
            self.flush()

    def emit(self, record: logging.LogRecord) -> None:  # called with the handler's lock held
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._append(line, urgent=record.levelno >= logging.WARNING)

    def write_line(self, line: str) -> None:
        """Buffer a line already formatted (see ``AccessLog``)."""
        with self.lock:  # type: ignore[union-attr]
            self._append(line, urgent=False)

    def _append(self, line: str, urgent: bool) -> None:
        self._lines.append(line + self.terminator)
        self._size += len(line) + 1
        if urgent or self._size >= self.capacity:
            self._write()

    def _write(self) -> None:
        if self._lines:
            text, self._lines, self._size = "".join(self._lines), [], 0
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):  # the stream is gone (closed at exit, or a broken pipe): nothing to do
                pass

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write()

    def close(self) -> None:
        self._stopped.set()
        self.flush()
        super().close()


class AccessLog:
    """One line per request handled, on the ``modelport.access`` logger at INFO, with the method, path, status and
    duration as fields. When its lines reach only the server's own handler (``configure``'s, unfiltered: the
    default), the same JSON line is handed to that handler straight, without the logging machinery's record and
    lookups (two thirds of a line's cost, a tenth of a small model's time per request); otherwise, through logging."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("modelport.access")

    def _direct(self) -> BufferedStreamHandler | None:
        """The handler the lines reach when it is the only one and nothing filters on the way, else None."""
        found: BufferedStreamHandler | None = None
        logger: logging.Logger | None = self.logger
        while logger is not None:
            if logger.filters or logger.disabled:
                return None
            for handler in logger.handlers:
                if (
                    found is not None
                    or not isinstance(handler, BufferedStreamHandler)
                    or not isinstance(handler.formatter, JSONFormatter)
                    or handler.filters
                    or handler.level > logging.INFO
                ):
                    return None
                found = handler
            logger = logger.parent if logger.propagate else None
        return found

    def write(self, method: str, path: str, status: int, seconds: float) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        fields = {"method": method, "path": path, "status": status, "duration_ms": round(seconds * 1000, 3)}
        handler = self._direct()
        if handler is None:
            self.logger.info("%s %s %d", method, path, status, extra=fields)
            return
        formatter: JSONFormatter = handler.formatter  # type: ignore[assignment]
        handler.write_line(formatter.line(time.time(), "INFO", self.logger.name, f"{method} {path} {status}", fields))


def configure(level: int = logging.INFO, capture_prints: bool = True) -> None:
    """JSON logs on stderr for a server process, written in batches; with ``capture_prints``, ``print`` becomes
    log lines too."""
    # What the JSON lines never show need not be gathered for each record (the logging HOWTO's "Optimization"):
    # the caller's file and line (a stack walk), the thread, the process and its name.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = BufferedStreamHandler(sys.__stderr__)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    package = logging.getLogger("modelport")  # a CLI may have given it a handler and level of its own
    package.handlers.clear()
    package.setLevel(logging.NOTSET)
    if capture_prints:
        sys.stdout = LoggingStream(logging.getLogger("modelport.script"))
