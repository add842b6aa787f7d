"""The comparison itself, between real runtimes, and the inputs it generates."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from modelport import Workspace
from modelport.optimize import Tolerance
from modelport.optimize.convert import InputLayout, convert
from modelport.optimize.equivalence import Probe, compare, generated_probe, sample_probe

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")


def test_labels_that_differ_are_counted_and_shown(sqlite_workspace: Workspace) -> None:
    from sklearn.linear_model import LogisticRegression

    x = np.random.default_rng(0).normal(size=(80, 2))
    model = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    flipped = LogisticRegression().fit(x, (x[:, 0] <= 0).astype(int))
    ws = sqlite_workspace
    ws.models.register("clf", obj=model)
    conversion = convert(flipped, "predict", {"data": x[:1].tolist()})
    ws.models.register("flipped", obj=conversion.model, runtime_options=conversion.runtime_options)
    probe = Probe("these rows", x[:10].tolist(), 10)
    result = compare(ws.models.load("clf"), ws.models.load("flipped"), [probe], Tolerance(), exact=True)
    assert not result.equivalent and result.exact and result.rows_checked == 10
    assert result.mismatch is not None
    assert result.mismatch.startswith("the labels differ on 10 of 10 rows; first at these rows, row 0: original ")


def test_shapes_that_differ(sqlite_workspace: Workspace) -> None:
    from sklearn.linear_model import LinearRegression

    x = np.random.default_rng(0).normal(size=(20, 2))
    model = LinearRegression().fit(x, x[:, 0])
    ws = sqlite_workspace
    ws.models.register("line", obj=model)
    ws.models.register("wide", obj=convert(model, "predict", None).model)  # skl2onnx's [N, 1], not reshaped
    result = compare(
        ws.models.load("line"), ws.models.load("wide"), [Probe("rows", x.tolist(), 20)], Tolerance(), False
    )
    assert not result.equivalent
    assert result.mismatch == "the outputs have different shapes on rows: original (20,), ONNX (20, 1)"


def test_generated_rows_surround_the_sample_and_are_seeded(tabular: tuple[Any, list[list[float]]]) -> None:
    model, rows = tabular
    layout = InputLayout("rows", n_features=5)
    probe = generated_probe(model, layout, {"data": rows}, n=100, spread=0.5)
    again = generated_probe(model, layout, {"data": rows}, n=100, spread=0.5)
    assert probe.payload == again.payload and probe.rows == 100
    matrix = np.asarray(probe.payload)
    assert matrix.shape == (100, 5)
    assert np.abs(matrix[0::2] - np.asarray(rows[0])).mean() < 2  # around the first sample row, every other one
    sample = sample_probe(layout, {"data": rows})
    assert sample is not None and sample.rows == 2 and sample.payload == {"data": rows}


def test_generated_texts_use_the_vocabulary(text_model: Any) -> None:
    probe = generated_probe(text_model, InputLayout("text"), {"data": ["how do I sort an array"]}, n=50)
    texts = probe.payload
    assert texts[:3] == ["", "   ", "?"]  # edge cases first
    vocabulary = set(text_model.steps[0][1].vocabulary_)
    words = [w for t in texts for w in re.findall(r"\w\w+", t.lower())]
    assert sum(w in vocabulary for w in words) > 0.7 * len(words)
    assert any(len(t.lower().split()) > len(set(t.lower().split())) for t in texts)  # repeated words


def test_tolerance_describes_itself() -> None:
    assert Tolerance().describe() == "rtol=0.0001,atol=1e-05"
    assert Tolerance(rtol=0, atol=1e-3).describe() == "rtol=0,atol=0.001"
