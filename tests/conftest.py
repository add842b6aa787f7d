"""Shared fixtures. Registry tests run on SQLite and, when ``MODELPORT_TEST_PG_URL`` names a server, PostgreSQL:
each PostgreSQL test gets a schema of its own, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from modelport import Workspace

PG_URL = os.environ.get("MODELPORT_TEST_PG_URL")


def _pg_schema_url() -> Iterator[str]:
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must set MODELPORT_TEST_PG_URL: the registry suite runs on PostgreSQL there")
        pytest.skip("MODELPORT_TEST_PG_URL is not set")
    import sqlalchemy as sa

    from modelport.registry.db import normalize_url

    schema = f"mp_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty metadata database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'meta.db'}"
    else:
        yield from _pg_schema_url()


@pytest.fixture
def workspace(tmp_path: Path, db_url: str) -> Iterator[Workspace]:
    """A workspace on each backend, with its artifacts and cache under ``tmp_path``."""
    ws = Workspace(tmp_path / "ws", db_url=db_url)
    yield ws
    ws.close()


@pytest.fixture
def sqlite_workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A default workspace (SQLite) for tests that do not depend on the database."""
    ws = Workspace(tmp_path / "ws")
    yield ws
    ws.close()
