"""Every CLI command end to end, in a real subprocess: output, ``--json`` and exit codes (0 ok, 1 user error,
2 internal error)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(tmp_path: Path) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPORT_")}
    env.update(MODELPORT_HOME=str(tmp_path / "ws"), COLUMNS="200")

    def run(*args: str, stdin: str | None = None, expect: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "modelport", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=120,
        )
        assert done.returncode == expect, f"exit {done.returncode}, expected {expect}\n{done.stdout}\n{done.stderr}"
        return done

    return run


@pytest.fixture
def model_file(tmp_path: Path) -> tuple[Path, LogisticRegression, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((60, 3))
    model = LogisticRegression().fit(x, (x[:, 0] > 0.5).astype(int))
    path = tmp_path / "clf.joblib"
    joblib.dump(model, path)
    return path, model, x


def test_init_creates_the_workspace_and_says_where(cli: Run, tmp_path: Path) -> None:
    done = cli("init")
    assert "Workspace ready" in done.stdout
    assert str(tmp_path / "ws") in done.stdout
    assert (tmp_path / "ws" / "modelport.db").is_file()
    info = json.loads(cli("init", "--json").stdout)
    assert info["artifacts"] == str(tmp_path / "ws" / "artifacts")
    assert info["models"] == "0"


def test_models_lifecycle(cli: Run, model_file: tuple[Path, LogisticRegression, np.ndarray], tmp_path: Path) -> None:
    path, _, x = model_file
    sample = tmp_path / "sample.json"
    sample.write_text(json.dumps({"data": x[:2].tolist()}))

    done = cli(
        "models",
        "register",
        "clf",
        str(path),
        "-d",
        "toy",
        "-t",
        "team=risk",
        "-p",
        "auc=0.91",
        "--sample-input",
        str(sample),
        "--cpu",
        "0.5",
        "--alias",
        "production",
    )
    assert "Registered clf:1 (sklearn" in done.stdout and "@production" in done.stdout
    second = json.loads(cli("models", "register", "clf", str(path), "-o", "method=predict_proba", "--json").stdout)
    assert second["version"] == 2 and second["runtime_options"] == {"method": "predict_proba"}

    listing = cli("models", "list").stdout
    assert "clf" in listing and "production" in listing and "team=risk" in listing
    rows = json.loads(cli("models", "list", "--json").stdout)
    assert [r["version"] for r in rows] == [2, 1]
    assert [r["version"] for r in json.loads(cli("models", "list", "--tag", "team=risk", "--json").stdout)] == [1]
    assert [r["version"] for r in json.loads(cli("models", "list", "--latest", "--json").stdout)] == [2]

    shown = cli("models", "show", "clf@production").stdout
    assert "clf:1" in shown and "auc=0.91" in shown and "cpu=0.5" in shown and "FP64" in shown
    detail = json.loads(cli("models", "show", "clf:1", "--json").stdout)
    assert detail["properties"] == {"auc": 0.91} and len(detail["files"][0]["sha256"]) == 64
    assert detail["files"][0]["sha256"] in shown  # the full hash is shown to people too

    out = tmp_path / "out"
    cli("models", "download", "clf:1", str(out))
    assert (out / "clf.joblib").read_bytes() == path.read_bytes()
    cli("models", "download", "clf:1", str(out), expect=1)  # refuses a non-empty folder

    assert "clf@production -> clf:2" in cli("models", "alias", "clf", "production", "2").stdout
    assert json.loads(cli("models", "show", "clf@production", "--json").stdout)["version"] == 2
    cli("models", "alias", "clf", "staging", "1")

    refused = cli("models", "delete", "clf:2", expect=1)
    assert "clf@production" in refused.stderr and "--force" in refused.stderr
    assert "Deleted clf:1 (removed aliases: staging)" in cli("models", "delete", "clf:1", "--force").stdout
    cli("models", "alias", "clf", "production", "--remove")
    cli("models", "alias", "clf", "production", "--remove", expect=1)
    assert json.loads(cli("models", "delete", "clf:2", "--json").stdout) == {"deleted": "clf:2", "aliases_removed": []}
    third = json.loads(cli("models", "register", "clf", str(path), "--json").stdout)
    assert third["version"] == 3  # versions are never reused


def test_predict_in_process(cli: Run, model_file: tuple[Path, LogisticRegression, np.ndarray], tmp_path: Path) -> None:
    path, model, x = model_file
    cli("models", "register", "clf", str(path))
    rows = x[:5].tolist()
    from_stdin = json.loads(cli("predict", "clf", "--input", "-", stdin=json.dumps({"data": rows})).stdout)
    assert from_stdin == model.predict(x[:5]).tolist()
    payload = tmp_path / "input.json"
    payload.write_text(json.dumps(rows))
    done = cli("predict", "clf:1", "--input", str(payload), "-o", "method=predict_proba", "--json")
    assert done.stdout.count("\n") == 1
    np.testing.assert_allclose(json.loads(done.stdout), model.predict_proba(x[:5]))


def test_predict_with_an_entry_script(cli: Run, tmp_path: Path) -> None:
    folder = tmp_path / "lookup"
    folder.mkdir()
    (folder / "table.json").write_text(json.dumps({"a": 1, "b": 2}))
    script = tmp_path / "score.py"
    script.write_text(
        "import json, os\n"
        "def init():\n"
        "    global table\n"
        "    with open(os.path.join(os.environ['AZUREML_MODEL_DIR'], 'lookup', 'table.json')) as f:\n"
        "        table = json.load(f)\n"
        "def run(raw):\n"
        "    keys = json.loads(raw)['keys']\n"
        "    return {'values': [table[k] for k in keys]}\n"
    )
    cli("models", "register", "lookup", str(folder), "--entry-script", str(script))
    done = cli("predict", "lookup", stdin='{"keys": ["b", "a"]}')
    assert json.loads(done.stdout) == {"values": [2, 1]}
    failed = cli("predict", "lookup", stdin='{"keys": ["zzz"]}', expect=1)
    assert "run() of score.py raised KeyError" in failed.stderr and "Traceback" not in failed.stderr


def test_envs_commands(cli: Run, tmp_path: Path) -> None:
    done = cli("envs", "register", "serve", "-r", "scikit-learn==1.9.1", "-r", "numpy>=2", "--python", "3.11")
    assert "serve:1" in done.stdout
    again = json.loads(
        cli(
            "envs", "register", "serve", "-r", "scikit-learn==1.9.1", "-r", "numpy>=2", "--python", "3.11", "--json"
        ).stdout
    )
    assert again["version"] == 1  # identical content: the same version
    conda = tmp_path / "conda.yml"
    conda.write_text("name: x\ndependencies:\n  - python=3.10\n  - numpy=1.26\n  - pip:\n    - joblib>=1.3\n")
    imported = json.loads(cli("envs", "register", "serve", "--conda-file", str(conda), "--json").stdout)
    assert imported["version"] == 2 and imported["python_version"] == "3.10"
    assert imported["requirements"] == ["numpy==1.26.*", "joblib>=1.3"]

    assert "serve" in cli("envs", "list").stdout
    assert len(json.loads(cli("envs", "list", "--json").stdout)) == 2
    assert "numpy==1.26.*" in cli("envs", "show", "serve:2").stdout
    dockerfile = cli("envs", "dockerfile", "serve:1").stdout
    assert "FROM python:3.11-slim" in dockerfile.splitlines()
    assert 'ENTRYPOINT ["modelport", "serve"' in dockerfile
    cli(
        "envs",
        "dockerfile",
        "serve",
        "-o",
        str(tmp_path / "Dockerfile"),
        "--requirements-out",
        str(tmp_path / "requirements.txt"),
    )
    assert "FROM python:3.10-slim" in (tmp_path / "Dockerfile").read_text()
    assert "numpy==1.26.*" in (tmp_path / "requirements.txt").read_text()
    bad = cli("envs", "register", "serve", "-r", "not a requirement!!", expect=1)
    assert "not a valid requirement" in bad.stderr
    cli("envs", "dockerfile", "serve", "--model", "ghost", expect=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["models", "show", "nope"], "no model named 'nope'"),
        (["models", "register", "bad name", "x"], "invalid model name 'bad name'"),
        (["models", "register", "ok", "missing.pkl"], "cannot read missing.pkl: no such file"),
        (["models", "show", "clf:x"], "the version after ':' must be a whole number"),
        (["predict", "nope", "--input", "missing.json"], "cannot read the input file missing.json"),
        (["envs", "show", "nothing"], "no environment named 'nothing'"),
        (["models", "frobnicate"], "No such command"),
        (["models", "register"], "Missing argument"),
        (
            ["serve", "m", "--max-batch-size", "0"],
            "invalid serving settings: max_batch_size: Input should be greater than or equal to 1",
        ),
    ],
)
def test_user_errors_are_one_clear_line_and_exit_1(cli: Run, args: list[str], message: str) -> None:
    done = cli(*args, expect=1)
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_suggestions_wrong_framework_and_debug(
    cli: Run, model_file: tuple[Path, LogisticRegression, np.ndarray]
) -> None:
    path, _, _ = model_file
    cli("models", "register", "iris-classifier", str(path))
    assert "Did you mean 'iris-classifier'?" in cli("models", "show", "iris-clasifier", expect=1).stderr
    wrong = cli("models", "register", "x", str(path), "--framework", "onnx", expect=1)
    assert "is a sklearn model file, not onnx" in wrong.stderr
    unknown = cli("models", "register", "x", str(path), "--framework", "tensorflow", expect=1)
    assert "unknown framework 'tensorflow'" in unknown.stderr
    debug = cli("models", "show", "nope", "--debug", expect=1)
    assert "Traceback" in debug.stderr and "ModelNotFoundError" in debug.stderr


def test_internal_errors_exit_2(cli: Run, tmp_path: Path) -> None:
    bad_db = tmp_path / "not-a-db"
    bad_db.write_bytes(b"this is not sqlite" * 100)
    env_home = tmp_path / "ws"
    env_home.mkdir()
    (env_home / "modelport.db").write_bytes(bad_db.read_bytes())
    done = cli("models", "list", expect=2)
    assert "internal error" in done.stderr or "cannot open" in done.stderr


def test_version_and_help(cli: Run) -> None:
    assert cli("--version").stdout.startswith("modelport ")
    assert "models" in cli("--help").stdout
    assert "register" in cli("models", "--help").stdout


def test_help_lists_every_command_in_order_and_each_loads() -> None:
    """The root group loads a command's module only when it runs (cli.app.COMMANDS); help still lists them all."""
    import typer.core
    import typer.main
    from typer import _click as click

    from modelport.cli.app import COMMANDS, app, load_command

    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    with click.Context(group) as ctx:
        assert group.list_commands(ctx) == list(COMMANDS)
        for name in COMMANDS:
            command = group.get_command(ctx, name)
            assert command is not None and command.name == name and command.help
            assert isinstance(command, typer.core.TyperGroup) == COMMANDS[name].endswith(":app")
    assert load_command("serve").params[0].name == "models"


def test_the_root_help_flows_each_commands_description() -> None:
    """A docstring's line breaks are the source's, not the help's: the root's list joins them into flowing text."""
    from modelport.cli.app import load_command

    serve = load_command("serve")
    assert serve.short_help is not None and "\n" not in serve.short_help
    assert "until interrupted (Ctrl-C or SIGTERM drain in-flight requests first)." in serve.short_help


def test_version_imports_no_command() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "modelport", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("modelport ")
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.count("|") == 2}
    assert "modelport.cli.app" in imported
    assert sorted(m for m in imported if m.startswith(("modelport.cli.", "rich", "sqlalchemy"))) == [
        "modelport.cli._output",
        "modelport.cli.app",
    ]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MODELPORT_BATCH_WORKERS", "x", "MODELPORT_BATCH_WORKERS='x': Input should be a valid integer"),
        ("MODELPORT_BATCH_STREAM_ABOVE_MB", "-1", "MODELPORT_BATCH_STREAM_ABOVE_MB='-1': Input should be greater than"),
    ],
)
def test_a_bad_setting_in_the_environment_is_named_with_its_value_and_exits_1(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPORT_")}
    env.update(MODELPORT_HOME=str(tmp_path / "ws"), COLUMNS="200", **{variable: value})
    done = subprocess.run(
        [sys.executable, "-m", "modelport", "server", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert f"error: invalid setting {message}" in done.stderr and "Traceback" not in done.stderr
