"""Environments made real on the machine that serves: a virtualenv per environment version, with its requirements
installed, cached under the workspace's cache folder.

The virtualenv also sees the packages of the interpreter that builds it (modelport itself among them) through a
``.pth`` file, listed after its own site-packages: the environment's pins win, everything else comes from here.
A virtualenv is complete only once a marker file is written, so an install that fails half way is redone, never
used.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import uuid
from collections.abc import Callable
from pathlib import Path

from ..errors import InvalidInputError
from .environments import EnvironmentRegistry
from .records import EnvironmentVersion

logger = logging.getLogger(__name__)
MARKER = ".modelport-complete"


def python_matches(env: EnvironmentVersion) -> bool:
    wanted = env.python_version.split(".")
    here = [str(sys.version_info.major), str(sys.version_info.minor), str(sys.version_info.micro)]
    return here[: len(wanted)] == wanted


def _parent_paths() -> list[str]:
    """The import paths of this interpreter beyond the standard library: what the virtualenv inherits."""
    stdlib = {os.path.realpath(sysconfig.get_path(k)) for k in ("stdlib", "platstdlib")}
    paths = []
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        in_stdlib = real in stdlib or real.startswith(tuple(s + os.sep for s in stdlib))
        if in_stdlib and "site-packages" not in real:  # the virtualenv has its own standard library
            continue
        paths.append(real)
    return list(dict.fromkeys(paths))


def materialize(env: EnvironmentVersion, cache_dir: Path, say: Callable[[str], None] = logger.info) -> Path:
    """The Python of a virtualenv for ``env``, built on first use; later calls reuse it."""
    if not python_matches(env):
        raise InvalidInputError(
            f"environment {env.ref} needs Python {env.python_version}, but this is Python "
            f"{sys.version_info.major}.{sys.version_info.minor}: run modelport with that Python, or build the "
            "environment's image (modelport envs dockerfile)"
        )
    root = cache_dir / "envs" / f"{env.name}-{env.version}-{env.content_hash[:12]}"
    python = root / "bin" / "python"
    if (root / MARKER).is_file() and python.exists():
        return python
    shutil.rmtree(root, ignore_errors=True)
    partial = root.parent / f".{root.name}.{uuid.uuid4().hex}.partial"
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        say(f"creating the virtualenv of environment {env.ref}")
        subprocess.run([sys.executable, "-m", "venv", str(partial)], check=True, capture_output=True)
        site = subprocess.run(
            [str(partial / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        Path(site, "modelport-parent.pth").write_text("\n".join(_parent_paths()) + "\n", encoding="utf-8")
        requirements = partial / "requirements.txt"
        requirements.write_text(EnvironmentRegistry.requirements_text(env), encoding="utf-8")
        if env.requirements:
            say(f"installing {len(env.requirements)} requirement(s) of {env.ref}: {', '.join(env.requirements)}")
            done = subprocess.run(
                [
                    str(partial / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-input",
                    "-r",
                    str(requirements),
                ],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
                raise InvalidInputError(f"installing the requirements of environment {env.ref} failed:\n{tail}")
        (partial / MARKER).write_text(env.content_hash, encoding="utf-8")
        os.rename(partial, root)  # bin/python finds its prefix wherever it is; we only ever run "python -m"
    except subprocess.CalledProcessError as exc:
        raise InvalidInputError(f"creating the virtualenv of {env.ref} failed: {exc.stderr or exc}") from exc
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return python
