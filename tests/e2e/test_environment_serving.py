"""``modelport serve --env ENV``: the environment becomes a virtualenv (built once, cached) and the server runs in
it, with the environment's pins ahead of what modelport's own installation has."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from modelport import Workspace

from .test_serve import STOPPED, start_server, stop

SCRIPT = """
import sys
import six

def init():
    pass

def run(raw):
    return {"six": six.__version__, "prefix": sys.prefix}
"""


@pytest.mark.slow
def test_serve_inside_an_environment(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "README").write_text("the script is the model")
    (tmp_path / "score.py").write_text(SCRIPT)
    with Workspace(home) as ws:
        ws.models.register("probe", tmp_path / "m", framework="custom", entry_script=tmp_path / "score.py")
        env = ws.environments.register(
            "pinned", python=f"{sys.version_info.major}.{sys.version_info.minor}", requirements=["six==1.16.0"]
        )
    process, url = start_server(home, "probe", "--env", "pinned")
    try:
        answer = httpx.post(f"{url}/score", content=b"{}").json()
        assert answer["six"] == "1.16.0"
        assert f"envs/pinned-{env.version}-" in answer["prefix"]
    finally:
        assert stop(process) in STOPPED


def test_an_environment_for_another_python_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "README").write_text("x")
    (tmp_path / "score.py").write_text(SCRIPT)
    with Workspace(home) as ws:
        ws.models.register("probe", tmp_path / "m", framework="custom", entry_script=tmp_path / "score.py")
        ws.environments.register("old", python="3.8", requirements=["six"])
    done = subprocess.run(
        [sys.executable, "-m", "modelport", "serve", "probe", "--env", "old", "--port", "0"],
        capture_output=True,
        text=True,
        env={"MODELPORT_HOME": str(home), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 1
    assert "environment old:1 needs Python 3.8" in done.stderr
