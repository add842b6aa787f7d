"""``modelport optimize`` through the CLI's entry point: the report, ``--json``, and exit 1 with one error line when
the ONNX version is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from modelport import Workspace
from modelport.cli import main

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")


@pytest.fixture
def home(tmp_path: Path) -> str:
    """A workspace holding clf:1, a LogisticRegression scoring probabilities, with a sample input."""
    rng = np.random.default_rng(0)
    x = rng.random((60, 3))
    model = LogisticRegression().fit(x, (x[:, 0] > 0.5).astype(int))
    with Workspace(tmp_path / "ws") as ws:
        ws.models.register(
            "clf", obj=model, sample_input={"data": x[:2].tolist()}, runtime_options={"method": "predict_proba"}
        )
    return str(tmp_path / "ws")


def versions(home: str) -> list[str]:
    with Workspace(home) as ws:
        return [v.ref for v in ws.models.list()]


def test_registers_and_prints_the_report(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--home", home, "optimize", "clf", "--min-speedup", "0", "--repeat", "3", "--alias", "fast"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "equivalence: equivalent on 258 rows: max abs diff" in out
    assert "one row" in out and "batch of 64 rows" in out and "SPEED-UP" in out
    assert "Registered clf:2 as @fast (onnx, optimized_from=clf:1, speedup=" in out
    assert err.splitlines() == [
        "==> converting clf:1 with skl2onnx",
        "==> comparing outputs on the registered sample and 256 generated rows",
        "==> timing both in-process (3 rounds: one row, and batches of 64 rows)",
    ]
    assert versions(home) == ["clf:2", "clf:1"]


def test_dry_run_json(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--home", home, "optimize", "clf:1", "--dry-run", "--min-speedup", "0", "--repeat", "3", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert report["outcome"] == "dry-run" and report["version"] is None
    assert report["equivalence"]["equivalent"] is True
    assert report["tolerance"] == {"rtol": 0.0001, "atol": 1e-05}
    assert report["timing"]["batch_rows"] == 64
    assert versions(home) == ["clf:1"]


def test_not_faster_exits_1_with_one_error_line(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--home", home, "optimize", "clf", "--min-speedup", "1000", "--repeat", "3"])
    out, err = capsys.readouterr()
    assert code == 1
    errors = [line for line in err.splitlines() if not line.startswith("==> ")]
    assert len(errors) == 1 and errors[0].startswith("error: clf:1 was not optimized: not faster: one row ")
    assert "Not registered." in out
    assert versions(home) == ["clf:1"]


def test_not_equivalent_json_still_prints_the_report(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--home", home, "optimize", "clf", "--tolerance-rtol", "0", "--tolerance-atol", "0", "--json"]
    code = main([*argv, "--min-speedup", "0", "--repeat", "3"])
    out, err = capsys.readouterr()
    assert code == 1
    report = json.loads(out)
    assert report["outcome"] == "refused" and report["equivalence"]["equivalent"] is False
    assert err.splitlines()[-1].startswith("error: clf:1 was not optimized: not equivalent: the outputs differ")
    assert versions(home) == ["clf:1"]


def test_an_unknown_model(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--home", home, "optimize", "clff"]) == 1
    assert capsys.readouterr().err.strip() == "error: no model named 'clff'. Did you mean 'clf'?"
