"""API keys of the control-plane server.

A key is ``mpk_`` and 43 random URL-safe characters. It is shown once, when created; the workspace keeps only its
sha256 and its first 12 characters (the ``prefix``, which names it in listings). A presented key is found by its
prefix and then checked by comparing hashes with ``hmac.compare_digest``, so how long checking takes says nothing
about how much of a wrong key was right. ``last_used_at`` is written at most once a minute per key, not on every
request.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from ..errors import ConflictError, NotFoundError, UnauthorizedError
from .db import read_session, write_session
from .refs import validate_name
from .tables import ApiKeyRow, as_utc, utcnow

KEY_PREFIX = "mpk_"
PREFIX_LENGTH = 12
TOUCH_EVERY_S = 60.0


@dataclass(frozen=True)
class ApiKey:
    """A key as listed: never the secret itself."""

    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "last_used_at": None if self.last_used_at is None else self.last_used_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }


@dataclass(frozen=True)
class NewApiKey:
    """A key just created: ``secret`` is the only copy there will ever be."""

    key: ApiKey
    secret: str


class ApiKeyNotFoundError(NotFoundError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no API key named {name!r}: see modelport keys list")


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyRegistry:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._touched: dict[int, float] = {}  # key id -> when this process last wrote its last_used_at
        self._lock = threading.Lock()

    def create(self, name: str) -> NewApiKey:
        validate_name(name, "API key")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(name=name, prefix=secret[:PREFIX_LENGTH], sha256=hash_key(secret), created_at=utcnow())
        try:
            with write_session(self.engine) as session:
                if session.scalars(select(ApiKeyRow.id).where(ApiKeyRow.name == name)).first() is not None:
                    raise ConflictError(
                        f"an API key named {name!r} exists already (names are kept after revoking): pick another name"
                    )
                session.add(row)
        except DBIntegrityError as exc:  # created concurrently under the same name
            raise ConflictError(f"an API key named {name!r} exists already") from exc
        return NewApiKey(_record(row), secret)

    def list(self) -> builtins.list[ApiKey]:
        with read_session(self.engine) as session:
            return [_record(r) for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.name))]

    def get(self, name: str) -> ApiKey:
        with read_session(self.engine) as session:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.name == name)).one_or_none()
            if row is None:
                raise ApiKeyNotFoundError(name)
            return _record(row)

    def revoke(self, name: str) -> ApiKey:
        """Refuse the key from now on. Revoking a revoked key changes nothing."""
        with write_session(self.engine) as session:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.name == name)).one_or_none()
            if row is None:
                raise ApiKeyNotFoundError(name)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            return _record(row)

    def verify(self, secret: str) -> ApiKey:
        """The key a bearer token is, if it is a valid, unrevoked one; ``UnauthorizedError`` otherwise."""
        refused = UnauthorizedError("a valid API key is required: send Authorization: Bearer KEY")
        if not secret.startswith(KEY_PREFIX) or len(secret) < PREFIX_LENGTH:
            raise refused
        digest = hash_key(secret)
        with read_session(self.engine) as session:
            candidates = session.scalars(select(ApiKeyRow).where(ApiKeyRow.prefix == secret[:PREFIX_LENGTH])).all()
        match = None
        for row in candidates:  # almost always one; compare each, so the time does not depend on which matched
            if hmac.compare_digest(row.sha256, digest) and match is None:
                match = row
        if match is None or match.revoked_at is not None:
            raise refused
        self._touch(match.id)
        return _record(match)

    def _touch(self, key_id: int) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._touched.get(key_id, -TOUCH_EVERY_S) < TOUCH_EVERY_S:
                return
            self._touched[key_id] = now
        moment = utcnow()
        with write_session(self.engine) as session:  # other processes' writes count too
            session.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.id == key_id)
                .where(
                    or_(
                        ApiKeyRow.last_used_at.is_(None),
                        ApiKeyRow.last_used_at < moment - timedelta(seconds=TOUCH_EVERY_S),
                    )
                )
                .values(last_used_at=moment)
            )


def _record(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        name=row.name,
        prefix=row.prefix,
        created_at=as_utc(row.created_at),
        last_used_at=None if row.last_used_at is None else as_utc(row.last_used_at),
        revoked_at=None if row.revoked_at is None else as_utc(row.revoked_at),
    )
