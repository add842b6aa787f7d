"""Structured logs: one JSON object per line, built with a JSON encoder from a dict, carrying the request id and
model of the request being handled; and a stream that turns a scoring script's ``print`` into such lines."""

from __future__ import annotations

import io
import logging
import re
import sys
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


def redact(text: str) -> str:
    """Hide keys, tokens and passwords (in ``key=value`` forms and in URLs)."""
    return _URL_PASSWORD.sub(r"\1***\3", _BEARER.sub(r"\1***", _SECRET.sub(r"\1\2***", text)))


class JSONFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, message, request id, model, any ``extra`` fields,
    and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, var in (
            ("request_id", context.request_id),
            ("model", context.model_name),
            ("version", context.model_version),
        ):
            value = var.get()
            if value is not None:
                entry[key] = value
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
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


def configure(level: int = logging.INFO, capture_prints: bool = True) -> None:
    """JSON logs on stderr for a server process; with ``capture_prints``, ``print`` becomes log lines too."""
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    package = logging.getLogger("modelport")  # a CLI may have given it a handler and level of its own
    package.handlers.clear()
    package.setLevel(logging.NOTSET)
    if capture_prints:
        sys.stdout = LoggingStream(logging.getLogger("modelport.script"))
