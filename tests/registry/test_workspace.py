"""Opening a workspace: where its state lives, and what happens when the database cannot be reached."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelport import Workspace
from modelport.errors import UnavailableError
from modelport.registry.db import normalize_url, redact_url


def test_home_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_HOME", str(tmp_path / "from-env"))

    with Workspace() as ws:
        described = ws.describe()

    home = (tmp_path / "from-env").resolve()
    assert described == {
        "database": f"sqlite:///{home / 'modelport.db'}",
        "artifacts": str(home / "artifacts"),
        "cache": str(home / "cache"),
    }


def test_arguments_beat_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_HOME", str(tmp_path / "from-env"))
    monkeypatch.setenv("MODELPORT_STORE_URL", str(tmp_path / "store-from-env"))

    with Workspace(tmp_path / "arg", cache_dir=tmp_path / "cache") as ws:
        assert ws.store_url == str(tmp_path / "store-from-env")
        assert ws.cache_dir == (tmp_path / "cache").resolve()
        assert ws.db_url == f"sqlite:///{(tmp_path / 'arg' / 'modelport.db').resolve()}"
    assert not (tmp_path / "from-env").exists()


def test_urls_are_normalized_and_redacted() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    assert redact_url("postgresql+psycopg://u:hunter2@h/db") == "postgresql+psycopg://u:***@h/db"
    assert "hunter2" not in redact_url("::not a url hunter2::")


def test_an_unreachable_database_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(UnavailableError, match="cannot open the workspace database") as raised:
        Workspace(tmp_path, db_url="postgresql://modelport:hunter2@127.0.0.1:1/nothing")

    assert "hunter2" not in str(raised.value)
    assert "***" in str(raised.value)
