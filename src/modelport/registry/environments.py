"""Environments: a Python version and pip requirements, versioned by name. Registering content that a version of
the same name already has returns that version instead of a new one."""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from .._version import __version__
from ..errors import EnvironmentNotFoundError, InvalidInputError
from ..settings import DEFAULT_PORT
from .db import read_session, write_session
from .naming import get_or_create_name, next_version
from .records import EnvironmentVersion
from .refs import Reference, closest, parse_reference, validate_name
from .tables import EnvironmentNameRow, EnvironmentVersionRow, as_utc

_PYTHON = re.compile(r"3\.\d{1,2}(\.\d{1,2})?")


def parse_requirements(lines: Iterable[str], source: str = "requirements") -> list[str]:
    """Requirement lines, checked: comments and blank lines dropped, pip options (``--index-url``...) kept."""
    parsed = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r", "-c", "--requirement", "--constraint")):
            raise InvalidInputError(
                f"{source} line {number}: nested requirement files ({line}) are not followed; list the packages"
            )
        if line.startswith("-"):
            parsed.append(line)
            continue
        try:
            Requirement(line)
        except InvalidRequirement as exc:
            raise InvalidInputError(f"{source} line {number}: {line!r} is not a valid requirement: {exc}") from exc
        parsed.append(line)
    return parsed


def read_conda(path: Path) -> tuple[str | None, list[str]]:
    """(python version, pip requirements) from a conda environment YAML. Conda packages become pip
    requirements (``numpy=1.26`` -> ``numpy==1.26``); ``python`` sets the Python version."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("dependencies", []), list):
        raise InvalidInputError(f"{path} is not a conda environment file: expected a 'dependencies' list")
    python, requirements = None, []
    for item in document.get("dependencies", []):
        if isinstance(item, dict):
            pip_list = item.get("pip", [])
            if not isinstance(pip_list, list):
                raise InvalidInputError(f"{path}: 'pip' must be a list of requirements")
            requirements += [str(p) for p in pip_list]
            continue
        spec = str(item).split("::")[-1].strip()
        match = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
        if match is None:
            raise InvalidInputError(f"{path}: cannot read the dependency {item!r}")
        package, constraint = match.groups()
        constraint = constraint.strip()
        if package == "pip":
            continue
        # "numpy=1.26.4=py311h64a7726_0" and "numpy 1.26.4 py311_0" (conda env export) pin one exact build;
        # pip has no build strings, so they pin the version
        exported = re.fullmatch(r"=?(\d[^=\s]*)(?:=|\s+)\S+", constraint) or re.fullmatch(r"(\d\S*)", constraint)
        if exported is not None:
            constraint = "==" + exported.group(1)
        elif constraint[:1] == "=" and not constraint.startswith("=="):
            version = constraint[1:]  # conda's single '=' matches a version prefix: pip's '==X.*'
            constraint = "==" + (version if version.endswith(".*") else version + ".*")
        if package == "python":
            python = constraint.lstrip("=<>~! ").removesuffix(".*") or None
            continue
        requirements.append(package + constraint)
    return python, parse_requirements(requirements, str(path))


class EnvironmentRegistry:
    """Environments of one workspace. Get one from ``Workspace.environments``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def register(
        self,
        name: str,
        *,
        python: str | None = None,
        requirements: Iterable[str] | None = None,
        requirements_file: str | os.PathLike[str] | None = None,
        conda_file: str | os.PathLike[str] | None = None,
        base_image: str | None = None,
        description: str = "",
    ) -> EnvironmentVersion:
        validate_name(name, "environment")
        packages = parse_requirements(requirements or [], "requirements")
        if requirements_file is not None:
            path = Path(requirements_file)
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
            packages += parse_requirements(lines, str(path))
        if conda_file is not None:
            conda_python, conda_packages = read_conda(Path(conda_file))
            python = python or conda_python
            packages += conda_packages
        python = python or f"{sys.version_info.major}.{sys.version_info.minor}"
        if not _PYTHON.fullmatch(python):
            raise InvalidInputError(f"invalid Python version {python!r}: expected 3.X or 3.X.Y, e.g. 3.11")
        content = json.dumps({"python": python, "requirements": packages, "base_image": base_image}, sort_keys=True)
        content_hash = hashlib.sha256(content.encode()).hexdigest()
        try:
            return self._insert(name, python, packages, base_image, description, content_hash)
        except DBIntegrityError:  # an identical version was registered concurrently: return it
            existing = self._by_hash(name, content_hash)
            if existing is None:
                raise
            return existing

    def _insert(
        self,
        name: str,
        python: str,
        packages: list[str],
        base_image: str | None,
        description: str,
        content_hash: str,
    ) -> EnvironmentVersion:
        with write_session(self.engine) as session:
            env_id = get_or_create_name(session, EnvironmentNameRow, name)
            existing = session.scalars(
                select(EnvironmentVersionRow).where(
                    EnvironmentVersionRow.environment_id == env_id,
                    EnvironmentVersionRow.content_hash == content_hash,
                )
            ).one_or_none()
            if existing is not None:
                return _record(name, existing)
            row = EnvironmentVersionRow(
                environment_id=env_id,
                version=next_version(session, EnvironmentNameRow, env_id),
                python_version=python,
                requirements=packages,
                base_image=base_image,
                description=description or "",
                content_hash=content_hash,
            )
            session.add(row)
            session.flush()
            return _record(name, row)

    def _by_hash(self, name: str, content_hash: str) -> EnvironmentVersion | None:
        with read_session(self.engine) as session:
            row = session.scalars(
                select(EnvironmentVersionRow)
                .join(EnvironmentNameRow)
                .where(EnvironmentNameRow.name == name, EnvironmentVersionRow.content_hash == content_hash)
            ).one_or_none()
            return None if row is None else _record(name, row)

    def get(self, ref: str | Reference) -> EnvironmentVersion:
        """``NAME`` (newest) or ``NAME:VERSION``."""
        ref = parse_reference(ref, "environment") if isinstance(ref, str) else ref
        if ref.alias is not None:
            raise InvalidInputError(f"environments have no aliases: use {ref.name} or {ref.name}:VERSION")
        with read_session(self.engine) as session:
            env = session.scalars(select(EnvironmentNameRow).where(EnvironmentNameRow.name == ref.name)).one_or_none()
            if env is None:
                names = session.scalars(select(EnvironmentNameRow.name)).all()
                raise EnvironmentNotFoundError(ref.name, suggestions=closest(ref.name, names))
            query = select(EnvironmentVersionRow).where(EnvironmentVersionRow.environment_id == env.id)
            if ref.version is not None:
                query = query.where(EnvironmentVersionRow.version == ref.version)
            row = session.scalars(query.order_by(EnvironmentVersionRow.version.desc()).limit(1)).one_or_none()
            if row is None:
                raise EnvironmentNotFoundError(ref.name, ref.version)
            return _record(env.name, row)

    def list(self, name: str | None = None) -> builtins.list[EnvironmentVersion]:
        with read_session(self.engine) as session:
            query = select(EnvironmentNameRow.name, EnvironmentVersionRow).join(EnvironmentVersionRow.environment)
            if name is not None:
                self.get(Reference(name))  # raises with suggestions when unknown
                query = query.where(EnvironmentNameRow.name == name)
            rows = session.execute(query.order_by(EnvironmentNameRow.name, EnvironmentVersionRow.version.desc()))
            return [_record(n, row) for n, row in rows]

    @staticmethod
    def requirements_text(env: EnvironmentVersion) -> str:
        header = f"# environment {env.ref}: Python {env.python_version}\n"
        return header + "".join(f"{line}\n" for line in env.requirements)

    @staticmethod
    def dockerfile(env: EnvironmentVersion, model: str | None = None, port: int = DEFAULT_PORT) -> str:
        """A Dockerfile that installs the environment and modelport and serves ``model`` (a reference) on
        ``port``. Build it in a folder holding this environment's ``requirements.txt``."""
        base = env.base_image or f"python:{env.python_version}-slim"
        command: list[Any] = ["modelport", "serve", "--host", "0.0.0.0", "--port", str(port)]
        lines = [
            "# syntax=docker/dockerfile:1",
            f"# Environment {env.ref}, rendered by modelport {__version__}.",
            "# Build context: a folder with this environment's requirements.txt",
            "# (modelport envs dockerfile NAME --requirements-out requirements.txt writes it).",
            f"FROM {base}",
            "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \\",
            "    MODELPORT_HOME=/app/.modelport",
            "WORKDIR /app",
            "COPY requirements.txt /app/requirements.txt",
            "RUN python -m pip install -r /app/requirements.txt \\",
            f'    && python -m pip install "modelport=={__version__}"',
            "RUN useradd --create-home --uid 10001 modelport && chown -R modelport /app",
            "USER modelport",
            f"EXPOSE {port}",
            "ENTRYPOINT " + json.dumps(command),
        ]
        if model is not None:
            lines.append("CMD " + json.dumps([model]))
        return "\n".join(lines) + "\n"


def _record(name: str, row: EnvironmentVersionRow) -> EnvironmentVersion:
    return EnvironmentVersion(
        name=name,
        version=row.version,
        python_version=row.python_version,
        requirements=tuple(row.requirements),
        created_at=as_utc(row.created_at),
        base_image=row.base_image,
        description=row.description,
        content_hash=row.content_hash,
    )
