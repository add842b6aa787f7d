"""The peer servers of bench/serving.py: one module each, every one serving the same joblib model its own way.

A peer module builds a ``Peer``: the pip requirements of its virtualenv (``bench/.venvs/<name>/``, made on first
use and reused while its requirements are unchanged), and ``prepare``, which writes the peer's serving files into a
scratch folder and says how to start it, when it is ready and how to ask it for one row. The suite runs every peer
the same way (``taskset -c 0``, one BLAS/OpenMP thread, one worker or replica), so a module only says what differs.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

VENVS = Path(__file__).resolve().parent.parent / ".venvs"
NAMES = ("azureml", "mlserver", "bentoml", "mlflow", "litserve", "rayserve")
# the peers unpickle the main venv's joblib files: the libraries inside the pickles must be the same versions
SHARED = ("scikit-learn", "numpy", "scipy", "joblib")


class PeerUnavailable(Exception):
    """A peer that cannot be installed or started here; the message says why, in one line."""


@dataclass(frozen=True)
class Target:
    """One benchmark model as a peer sees it."""

    name: str  # "tabular" or "faq"
    path: Path  # the joblib file, written by the main venv
    row: list[Any]  # one request row: a list of floats' list, or a list of one string
    text: bool  # whether the model takes raw strings (the FAQ pipeline) rather than a float matrix


@dataclass(frozen=True)
class Launch:
    """How to run a prepared peer: everything the suite cannot know by itself."""

    command: list[str]  # started as is, prefixed by taskset, in the scratch folder
    ready_path: str  # GET until it answers 200 ...
    score_path: str  # POST ``body`` here as JSON
    body: dict[str, Any]
    ready_text: str | None = None  # ... and, when set, until its body holds this text
    env: dict[str, str] = field(default_factory=dict)
    startup_timeout_s: float = 120.0


@dataclass(frozen=True)
class Peer:
    name: str  # as on the command line and in bench/.venvs/
    title: str  # as in the table
    requirements: tuple[str, ...]  # pinned, without the shared libraries (added from the main venv)
    prepare: Callable[[Path, Path, Target, int], Launch]  # (venv, scratch folder, model, port)
    read_answer: Callable[[Any], np.ndarray]  # the decoded JSON answer -> probabilities, shape (1, classes)
    how: str = ""  # one line on how it is served, for the output


def load(name: str) -> Peer:
    peer: Peer = importlib.import_module(f"peers.{name}").PEER
    return peer


def requirements(peer: Peer) -> list[str]:
    return [*peer.requirements, *(f"{d}=={importlib.metadata.version(d)}" for d in SHARED)]


def python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(peer: Peer, log: Callable[[str], None] = print) -> Path:
    """The peer's virtualenv, created and installed on first use; raises PeerUnavailable when pip fails."""
    venv = VENVS / peer.name
    wanted = "\n".join(requirements(peer)) + "\n"
    stamp = venv / "bench-requirements.txt"
    if stamp.is_file() and stamp.read_text() == wanted:
        return venv
    log(f"installing {peer.name} into {venv} ({', '.join(requirements(peer))}); this can take minutes")
    if not python(venv).exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            raise PeerUnavailable(f"python -m venv failed: {last_line(made.stderr)}")
    install = [str(python(venv)), "-m", "pip", "install", "--disable-pip-version-check", *requirements(peer)]
    with open(venv / "bench-install.log", "w") as out:
        done = subprocess.run(install, stdout=out, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        errors = [line for line in (venv / "bench-install.log").read_text().splitlines() if "ERROR" in line]
        raise PeerUnavailable(f"pip install failed: {errors[-1] if errors else venv / 'bench-install.log'}")
    stamp.write_text(wanted)
    return venv


_handed_out: set[int] = set()


def free_port() -> int:
    """A port free now, and not handed out before by this process. The peers (and uvicorn) cannot report a port they
    chose themselves, so this still races, rarely, with other programs."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def floats(rows: Any) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64)
