"""Settings of ``modelport ingest``. Every field can be set by ``MODELPORT_INGEST_<FIELD>``."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")


def parse_duration(text: str | float | int) -> float:
    """``"90s"``, ``"1m"``, ``"1.5h"``, ``"250ms"`` or a number of seconds, in seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration: use a number with s, m, h or d, e.g. 1m or 30s")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def format_duration(seconds: float) -> str:
    """The shortest of ``1h``, ``1m``, ``30s``, ``1.5s`` that says ``seconds``."""
    for unit in ("d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{seconds:g}s"


def hide_password(url: str) -> str:
    """The URL with any password replaced by ``***``, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


class IngestSettings(BaseSettings):
    """What one ingester reads, how it aggregates, and where it keeps its state and output."""

    model_config = SettingsConfigDict(env_prefix="MODELPORT_INGEST_", extra="ignore")

    output: str = Field(
        description="fsspec URL or local folder of the data store: windows are written under "
        "<output>/date=YYYY-MM-DD/ as Parquet files, one per window.",
    )
    state_dir: Path = Field(
        default=Path(".modelport/ingest"),
        description="Local folder of the write-ahead log, the record of closed windows and the set-aside (rejected) "
        "readings. One ingester per folder; keep it across restarts. The CLI's default is <workspace home>/ingest.",
    )
    window_s: float = Field(
        default=60.0,
        ge=1,
        le=86400,
        description="Length of a window in whole seconds; windows are aligned to the Unix epoch (UTC) and must "
        "divide a day evenly, so that no window spans two dates.",
    )
    grace_s: float = Field(
        default=30.0,
        ge=0,
        description="How long after a window's end (by the newest reading's TS) it still takes readings; then it is "
        "written, and readings for it that come later are set aside as late.",
    )
    max_ahead_s: float = Field(
        default=86400.0,
        gt=0,
        description="A reading whose TS is further ahead of this machine's clock is set aside (bad_timestamp): one "
        "device with a clock in the future would otherwise close every window at once.",
    )
    idle_close_s: float | None = Field(
        default=None,
        gt=0,
        description="When no reading has come for this long (wall clock), close and write every open window. "
        "Default: never; windows close only as newer readings arrive.",
    )
    mqtt_url: str | None = Field(
        default=None, description="MQTT broker to subscribe to, e.g. mqtt://user:password@host:1883."
    )
    topics: list[str] = Field(
        default_factory=lambda: ["sensors/#"], description="MQTT topic filters to subscribe to, with QoS 1."
    )
    client_id: str | None = Field(
        default=None,
        description="MQTT client id of the persistent session (the broker keeps messages for it while the ingester "
        "is down). Default: modelport-ingest- and a hash of the state folder.",
    )
    http_host: str | None = Field(default=None, description="Address the HTTP endpoint listens on; unset: no HTTP.")
    http_port: int = Field(default=8001, ge=0, le=65535, description="Port of the HTTP endpoint; 0 picks a free one.")
    http_require_key: bool | None = Field(
        default=None,
        description="Whether POST /readings needs Authorization: Bearer KEY with a key of the workspace (modelport "
        "keys create). Unset: needed unless the endpoint listens on a loopback address only.",
    )
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="Largest HTTP body accepted; larger ones get 413."
    )

    @property
    def http_needs_key(self) -> bool:
        """``http_require_key``, or when unset, whether the endpoint listens beyond this machine."""
        if self.http_require_key is not None:
            return self.http_require_key
        return not is_loopback(self.http_host or "")

    @field_validator("window_s", "grace_s", "idle_close_s", "max_ahead_s", mode="before")
    @classmethod
    def _durations(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value  # "1m" as well as 60

    @field_validator("window_s")
    @classmethod
    def _divides_a_day(cls, value: float) -> float:
        if value != int(value) or 86400 % int(value):
            raise ValueError(f"a window of {value:g}s does not divide a day evenly (try 10s, 1m, 5m, 15m, 1h)")
        return value

    @field_validator("topics")
    @classmethod
    def _topics_given(cls, value: list[str]) -> list[str]:
        if not value or any(not t.strip() for t in value):
            raise ValueError("topic filters must not be empty")
        return value


def is_loopback(host: str) -> bool:
    """Whether ``host`` is an address only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
