"""``modelport keys`` and ``modelport schedules`` through the CLI's entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelport import Workspace
from modelport.cli import main
from modelport.registry.keys import ApiKeyRegistry
from tests.batch.hello import register_hello


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_keys_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = ["--home", str(tmp_path / "ws")]
    created = _json(capsys, *home, "keys", "create", "ci")
    assert isinstance(created, dict) and created["key"].startswith(created["prefix"])

    listed = _json(capsys, *home, "keys", "list")
    assert listed == [{k: v for k, v in created.items() if k != "key"}]
    assert main([*home, "keys", "revoke", "ci"]) == 0
    with Workspace(tmp_path / "ws") as ws, pytest.raises(Exception, match="valid API key"):
        ApiKeyRegistry(ws.engine).verify(created["key"])
    assert main([*home, "keys", "revoke", "nope"]) == 1
    assert "no API key named 'nope'" in capsys.readouterr().err


def test_schedules_create_show_pause_resume_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Workspace(tmp_path / "ws") as ws:
        register_hello(ws, tmp_path / "hello")
    home = ["--home", str(tmp_path / "ws")]

    made = _json(
        capsys, *home, "schedules", "create", "hourly", "--pipeline", "hello", "--cron", "0 * * * *",
        "--param", "who=cron", "--missed", "all",
    )  # fmt: skip
    assert isinstance(made, dict) and (made["parameters"], made["missed"]) == ({"who": "cron"}, "all")
    assert main([*home, "schedules", "pause", "hourly"]) == 0
    shown = _json(capsys, *home, "schedules", "show", "hourly")
    assert isinstance(shown, dict) and shown["paused"] is True
    assert main([*home, "schedules", "resume", "hourly"]) == 0
    assert main([*home, "schedules", "list"]) == 0
    assert "hourly" in capsys.readouterr().out
    assert main([*home, "schedules", "create", "bad", "--pipeline", "hello", "--cron", "soon"]) == 1
    assert "invalid cron expression" in capsys.readouterr().err
    assert main([*home, "schedules", "delete", "hourly"]) == 0
    assert _json(capsys, *home, "schedules", "list") == []
