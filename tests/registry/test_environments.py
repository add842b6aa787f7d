"""Environments: a Python version and pip requirements, versioned by content; rendered as requirements and a
Dockerfile."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from modelport import EnvironmentVersion, InvalidInputError, NotFoundError, Workspace, __version__
from modelport.registry.environments import DEFAULT_PORT, EnvironmentRegistry, parse_requirements, read_conda

CONDA = """\
name: serve
channels: [conda-forge, defaults]
dependencies:
  - python=3.10
  - pip
  - numpy=1.26
  - scikit-learn>=1.4,<2
  - conda-forge::pandas=2.1.4
  - scipy=1.11.4=py310hb13e2d6_0
  - joblib 1.3.2 pyhd8ed1ab_0
  - tqdm
  - pip:
    - httpx>=0.27
    - orjson
"""


def test_register_from_a_list(workspace: Workspace) -> None:
    env = workspace.environments.register(
        "serve", python="3.11", requirements=["numpy>=1.26", "scikit-learn==1.5.*"], description="serving"
    )

    assert (env.name, env.version, env.ref) == ("serve", 1, "serve:1")
    assert env.python_version == "3.11"
    assert env.requirements == ("numpy>=1.26", "scikit-learn==1.5.*")
    assert env.base_image is None
    assert env.description == "serving"
    assert len(env.content_hash) == 64
    assert env.created_at.tzinfo is not None


def test_python_defaults_to_the_running_interpreter(workspace: Workspace) -> None:
    env = workspace.environments.register("serve", requirements=["numpy"])

    assert env.python_version == f"{sys.version_info.major}.{sys.version_info.minor}"


def test_register_from_a_requirements_file(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(
        "# pinned for serving\n"
        "\n"
        "--extra-index-url https://download.pytorch.org/whl/cpu\n"
        "numpy>=1.26  # inline comment\n"
        "pandas[performance]==2.2.2\n"
        "requests; python_version >= '3.8'\n"
    )

    env = workspace.environments.register("serve", python="3.12", requirements=["orjson"], requirements_file=path)

    assert env.requirements == (
        "orjson",
        "--extra-index-url https://download.pytorch.org/whl/cpu",
        "numpy>=1.26",
        "pandas[performance]==2.2.2",
        "requests; python_version >= '3.8'",
    )


def test_register_from_a_conda_file(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "environment.yml"
    path.write_text(CONDA)

    env = workspace.environments.register("serve", conda_file=path)

    assert env.python_version == "3.10"
    assert env.requirements == (
        "numpy==1.26.*",
        "scikit-learn>=1.4,<2",
        "pandas==2.1.4.*",
        "scipy==1.11.4",
        "joblib==1.3.2",
        "tqdm",
        "httpx>=0.27",
        "orjson",
    )


def test_python_given_beats_the_conda_file(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "environment.yml"
    path.write_text("dependencies:\n  - python=3.9.18=h955ad1f_0\n  - numpy\n")

    assert workspace.environments.register("a", conda_file=path).python_version == "3.9.18"
    assert workspace.environments.register("b", conda_file=path, python="3.12").python_version == "3.12"


def test_identical_content_returns_the_existing_version(workspace: Workspace) -> None:
    environments = workspace.environments
    first = environments.register("serve", python="3.11", requirements=["numpy"], description="first")

    again = environments.register("serve", python="3.11", requirements=["numpy"], description="ignored")
    changed = environments.register("serve", python="3.11", requirements=["numpy", "pandas"])
    new_python = environments.register("serve", python="3.12", requirements=["numpy"])
    new_base = environments.register("serve", python="3.11", requirements=["numpy"], base_image="ubuntu:24.04")
    back = environments.register("serve", python="3.11", requirements=["numpy", "pandas"])

    assert again == first
    assert again.description == "first"
    assert [changed.version, new_python.version, new_base.version, back.version] == [2, 3, 4, 2]
    assert [e.version for e in environments.list("serve")] == [4, 3, 2, 1]
    # the same content under another name is a version of that name
    assert environments.register("other", python="3.11", requirements=["numpy"]).ref == "other:1"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["numpy", "not a requirement!"], r"requirements line 2: 'not a requirement!' is not a valid requirement"),
        (["numpy>>1"], "line 1: 'numpy>>1' is not a valid requirement"),
        (["-r other.txt"], "line 1: nested requirement files"),
        (["--constraint c.txt"], "nested requirement files"),
    ],
)
def test_invalid_requirement_lines(lines: list[str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_requirements(lines)


def test_requirement_lines_kept_and_dropped() -> None:
    lines = ["# comment", "", "  numpy >= 1.26  # why", "--index-url https://example.org/simple", "pandas"]

    assert parse_requirements(lines) == ["numpy >= 1.26", "--index-url https://example.org/simple", "pandas"]


def test_invalid_requirements_register_nothing(sqlite_workspace: Workspace) -> None:
    with pytest.raises(InvalidInputError, match=r"requirements line 2: 'not a requirement!' is not a valid"):
        sqlite_workspace.environments.register("serve", python="3.11", requirements=["numpy", "not a requirement!"])

    assert sqlite_workspace.environments.list() == []


def test_invalid_line_of_a_requirements_file_is_located(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("numpy\n# fine\npandas ==\n")

    with pytest.raises(InvalidInputError, match=r"requirements\.txt line 3: 'pandas ==' is not a valid requirement"):
        sqlite_workspace.environments.register("serve", requirements_file=path)


def test_invalid_python_versions(sqlite_workspace: Workspace) -> None:
    for python in ("3", "2.7", "3.x", "python3.11", "3.11.1.1", "4.0", "3.11 ", "3.11\n"):
        with pytest.raises(InvalidInputError, match=r"invalid Python version .*expected 3\.X or 3\.X\.Y"):
            sqlite_workspace.environments.register("serve", python=python)

    assert sqlite_workspace.environments.list() == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("dependencies: [numpy\n", "is not valid YAML"),
        ("- just\n- a list\n", "is not a conda environment file"),
        ("dependencies: numpy\n", "is not a conda environment file"),
        ("dependencies:\n  - pip: numpy\n", "'pip' must be a list"),
        ("dependencies:\n  - numpy>>1\n", "is not a valid requirement"),
    ],
)
def test_invalid_conda_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "environment.yml"
    path.write_text(content)

    with pytest.raises(InvalidInputError, match=message):
        read_conda(path)


@pytest.mark.parametrize(
    ("dependency", "python", "requirements"),
    [
        ("python=3.12", "3.12", []),
        ("python>=3.10", "3.10", []),
        ("python=3.11.*", "3.11", []),
        ("python 3.11.9 h955ad1f_0", "3.11.9", []),
        ("python", None, []),
        ("numpy", None, ["numpy"]),
        ("numpy=1.26", None, ["numpy==1.26.*"]),
        ("numpy==1.26.4", None, ["numpy==1.26.4"]),
        ("numpy>=1.26,<2", None, ["numpy>=1.26,<2"]),
        ("numpy 1.26.4", None, ["numpy==1.26.4"]),
        ("numpy=1.26.4=py311h64a7726_0", None, ["numpy==1.26.4"]),
        ("conda-forge::numpy=1.26.4", None, ["numpy==1.26.4.*"]),
        ("pip", None, []),
    ],
)
def test_conda_dependencies(tmp_path: Path, dependency: str, python: str | None, requirements: list[str]) -> None:
    path = tmp_path / "environment.yml"
    path.write_text(f"dependencies:\n  - {dependency}\n")

    assert read_conda(path) == (python, requirements)


def test_missing_files(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"cannot read .*requirements\.txt"):
        sqlite_workspace.environments.register("serve", requirements_file=tmp_path / "requirements.txt")
    with pytest.raises(InvalidInputError, match=r"cannot read .*environment\.yml"):
        sqlite_workspace.environments.register("serve", conda_file=tmp_path / "environment.yml")


def test_invalid_environment_name(sqlite_workspace: Workspace) -> None:
    with pytest.raises(InvalidInputError, match="invalid environment name 'my env'"):
        sqlite_workspace.environments.register("my env", python="3.11")


# -- get and list ---------------------------------------------------------------------------------------------------


@pytest.fixture
def environments(workspace: Workspace) -> EnvironmentRegistry:
    registry = workspace.environments
    registry.register("serve", python="3.11", requirements=["numpy"])
    registry.register("train", python="3.12", requirements=["torch"])
    registry.register("serve", python="3.11", requirements=["numpy", "pandas"])
    return registry


def test_get(environments: EnvironmentRegistry) -> None:
    assert environments.get("serve").ref == "serve:2"
    assert environments.get("serve:1").requirements == ("numpy",)
    assert environments.get("train").python_version == "3.12"


def test_get_unknown(environments: EnvironmentRegistry) -> None:
    with pytest.raises(NotFoundError, match=r"no environment named 'serv'\. Did you mean 'serve'\?"):
        environments.get("serv")
    with pytest.raises(NotFoundError, match="environment 'serve' has no version 5"):
        environments.get("serve:5")
    with pytest.raises(InvalidInputError, match="environments have no aliases"):
        environments.get("serve@production")
    with pytest.raises(InvalidInputError, match="invalid reference"):
        environments.get("serve:x")


def test_list(environments: EnvironmentRegistry) -> None:
    assert [e.ref for e in environments.list()] == ["serve:2", "serve:1", "train:1"]
    assert [e.ref for e in environments.list("serve")] == ["serve:2", "serve:1"]
    with pytest.raises(NotFoundError, match="Did you mean 'train'"):
        environments.list("trian")


def test_to_dict_is_plain_json(environments: EnvironmentRegistry) -> None:
    shown = json.loads(json.dumps(environments.get("serve:2").to_dict()))

    assert shown["requirements"] == ["numpy", "pandas"]
    assert shown["python_version"] == "3.11"
    assert shown["name"] == "serve"


# -- rendering ------------------------------------------------------------------------------------------------------


def _environment(base_image: str | None = None) -> EnvironmentVersion:
    from datetime import UTC, datetime

    return EnvironmentVersion(
        name="serve",
        version=3,
        python_version="3.11",
        requirements=("numpy==2.0", "--extra-index-url https://example.org/simple"),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        base_image=base_image,
    )


def test_requirements_text() -> None:
    text = EnvironmentRegistry.requirements_text(_environment())

    assert text.splitlines() == [
        "# environment serve:3: Python 3.11",
        "numpy==2.0",
        "--extra-index-url https://example.org/simple",
    ]
    assert text.endswith("\n")


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, with continuation lines joined and comments dropped."""
    joined = dockerfile.replace("\\\n", " ")
    result = []
    for line in joined.splitlines():
        if line.strip() and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            result.append((keyword, " ".join(arguments.split())))
    return result


def test_dockerfile_structure() -> None:
    dockerfile = EnvironmentRegistry.dockerfile(_environment(), model="iris@production")

    instructions = _instructions(dockerfile)
    keywords = [k for k, _ in instructions]
    assert keywords[0] == "FROM"
    assert keywords[-2:] == ["ENTRYPOINT", "CMD"]
    assert all(k.isupper() for k in keywords)
    found = dict(instructions[:1] + [i for i in instructions if i[0] in ("EXPOSE", "ENTRYPOINT", "CMD", "WORKDIR")])
    assert found["FROM"] == "python:3.11-slim"
    assert found["EXPOSE"] == str(DEFAULT_PORT)
    assert json.loads(found["ENTRYPOINT"]) == ["modelport", "serve", "--host", "0.0.0.0", "--port", str(DEFAULT_PORT)]
    assert json.loads(found["CMD"]) == ["iris@production"]
    runs = [arguments for keyword, arguments in instructions if keyword == "RUN"]
    install = next(r for r in runs if "requirements.txt" in r)
    assert "python -m pip install -r /app/requirements.txt" in install
    assert f'python -m pip install "modelport=={__version__}"' in install
    copy = [arguments for keyword, arguments in instructions if keyword == "COPY"]
    assert copy == ["requirements.txt /app/requirements.txt"]
    assert keywords.index("COPY") < keywords.index("RUN") < keywords.index("EXPOSE")
    assert "USER" in keywords and keywords.index("USER") < keywords.index("ENTRYPOINT")


def test_dockerfile_with_a_base_image_a_port_and_no_model() -> None:
    dockerfile = EnvironmentRegistry.dockerfile(_environment(base_image="ubuntu:24.04"), port=8080)

    instructions = dict(_instructions(dockerfile))
    assert instructions["FROM"] == "ubuntu:24.04"
    assert instructions["EXPOSE"] == "8080"
    assert json.loads(instructions["ENTRYPOINT"])[-2:] == ["--port", "8080"]
    assert "CMD" not in instructions
    assert dockerfile.endswith("\n")


def test_dockerfile_of_a_registered_environment(workspace: Workspace) -> None:
    env = workspace.environments.register("serve", python="3.12.4", requirements=["numpy"])

    dockerfile = EnvironmentRegistry.dockerfile(env, model="iris:2")

    assert "FROM python:3.12.4-slim" in dockerfile.splitlines()
    assert dockerfile.splitlines()[-1] == 'CMD ["iris:2"]'
