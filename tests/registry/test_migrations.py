"""The schema: Alembic migrations create exactly the tables the code maps, once, however many processes open a new
workspace at the same moment."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import modelport.registry
from modelport import Workspace
from modelport.registry import db
from modelport.registry.tables import Base
from tests.helpers import open_workspace_worker, run_in_processes

MIGRATIONS = Path(modelport.registry.__file__).parent / "migrations"


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def _revisions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [str(r) for r in conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()]


def test_schema_head_is_the_head_of_the_migration_scripts() -> None:
    scripts = _scripts()

    assert scripts.get_heads() == [db.SCHEMA_HEAD]
    chain = list(scripts.walk_revisions())  # newest first, one line of history
    assert chain[0].revision == db.SCHEMA_HEAD
    assert chain[-1].down_revision is None
    assert all(newer.down_revision == older.revision for newer, older in itertools.pairwise(chain))


def test_migrations_create_exactly_the_mapped_tables(workspace: Workspace) -> None:
    with workspace.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, Base.metadata)
        tables = set(sa.inspect(conn).get_table_names())

    assert differences == []
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert _revisions(workspace.engine) == [db.SCHEMA_HEAD]


def test_opening_an_existing_workspace_does_not_migrate_again(
    workspace: Workspace, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.environments.register("serve", python="3.11")

    def no_upgrade(_engine: Engine) -> None:
        raise AssertionError("the schema is current: no migration should run")

    monkeypatch.setattr(db, "_upgrade", no_upgrade)
    with Workspace(workspace.settings.home, db_url=db_url) as again:
        assert again.environments.get("serve").version == 1


def test_a_new_database_is_migrated_once(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_upgrade = db._upgrade

    def counting_upgrade(engine: Engine) -> None:
        calls.append(str(engine.url))
        real_upgrade(engine)

    monkeypatch.setattr(db, "_upgrade", counting_upgrade)
    with Workspace(tmp_path / "ws", db_url=db_url) as first:
        assert _revisions(first.engine) == [db.SCHEMA_HEAD]
    with Workspace(tmp_path / "ws", db_url=db_url) as second:
        assert second.models.list() == []

    assert len(calls) == 1


def test_processes_opening_a_new_workspace_at_once(db_url: str, tmp_path: Path) -> None:
    home = tmp_path / "ws"

    outcomes = run_in_processes(open_workspace_worker, [(str(home), db_url)] * 2)

    assert [status for status, _ in outcomes] == ["ok", "ok"], outcomes
    assert [version for _, version in outcomes] == [1, 1]  # the same environment, registered once
    with Workspace(home, db_url=db_url) as ws:
        assert _revisions(ws.engine) == [db.SCHEMA_HEAD]
        assert [e.ref for e in ws.environments.list()] == ["opened:1"]


def test_default_sqlite_workspace_lives_in_its_home(tmp_path: Path) -> None:
    with Workspace(tmp_path / "home") as ws:
        assert ws.engine.url.get_backend_name() == "sqlite"
        assert Path(str(ws.engine.url.database)) == (tmp_path / "home" / "modelport.db").resolve()
        assert _revisions(ws.engine) == [db.SCHEMA_HEAD]
