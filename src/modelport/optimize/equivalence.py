"""Do the original and its ONNX version answer the same? Checked on the registered sample and on generated inputs.

Numbers (probabilities, regression values) must agree within a tolerance, as ``numpy.isclose`` reads it with the
original as the reference: ``|onnx - original| <= atol + rtol * |original|``. Labels must be identical. Generated
inputs: for a tabular model, rows drawn around the sample's rows (Gaussian noise of standard deviation
``spread * max(|value|, 1)`` on each value, seeded); for a text model, strings built from the vocabulary the model
learned, with repeated words, unknown words, punctuation, capitals and a few edge cases (empty, blank) among them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..codecs.tabular import unwrap_data
from ..errors import InvalidInputError, ModelportError
from ..runtimes import Runtime
from .convert import InputLayout, UnconvertibleError, text_vectorizer

GENERATED_ROWS = 256
SPREAD = 1.0
SEED = 0


@dataclass(frozen=True)
class Tolerance:
    """How far the ONNX version's numbers may be from the original's (labels must always match exactly)."""

    rtol: float = 1e-4
    atol: float = 1e-5

    def __post_init__(self) -> None:
        for key in ("rtol", "atol"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise InvalidInputError(f"tolerance {key} must be a finite number >= 0, got {value!r}")

    def describe(self) -> str:
        return f"rtol={self.rtol:g},atol={self.atol:g}"


@dataclass(frozen=True)
class Probe:
    """One input both versions score: the registered sample, or generated rows."""

    label: str
    payload: Any
    rows: int


@dataclass(frozen=True)
class Equivalence:
    """What comparing the two versions found. ``mismatch`` says how they differ when they are not equivalent."""

    equivalent: bool
    exact: bool
    rows_checked: int
    max_abs_diff: float
    max_rel_diff: float
    worst: str
    mismatch: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "equivalent": self.equivalent,
            "compared": "exactly (labels)" if self.exact else "within the tolerance",
            "rows_checked": self.rows_checked,
            "max_abs_diff": self.max_abs_diff,
            "max_rel_diff": self.max_rel_diff,
            "worst": self.worst,
            "mismatch": self.mismatch,
        }


# -- generated inputs ------------------------------------------------------------------------------------------


def _sample_matrix(layout: InputLayout, sample_input: Any) -> np.ndarray | None:
    data = unwrap_data(sample_input)
    if data is None or (isinstance(data, list | dict) and not data):
        return None
    try:
        if layout.kind == "columns":
            columns = [data[c] if isinstance(data[c], list) else [data[c]] for c in layout.columns]
            matrix = np.asarray(columns, dtype=np.float64).T
        else:
            matrix = np.asarray(data if isinstance(data[0], list) else [data], dtype=np.float64)
    except KeyError as exc:
        raise UnconvertibleError(f"the registered sample input lacks the column {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise UnconvertibleError(
            f"the registered sample input is not all numbers ({exc}): modelport optimize converts numeric tabular "
            "models and text pipelines"
        ) from exc
    if matrix.ndim != 2 or matrix.shape[1] != layout.n_features:
        width = matrix.shape[1] if matrix.ndim == 2 else matrix.size
        raise UnconvertibleError(
            f"the registered sample input has rows of {width} values; the model takes {layout.n_features} features"
        )
    return matrix


def _rows(layout: InputLayout, matrix: np.ndarray) -> Any:
    if layout.kind == "columns":
        return {c: matrix[:, i].tolist() for i, c in enumerate(layout.columns)}
    return matrix.tolist()


def _vocabulary(model: Any, sample_input: Any) -> list[str]:
    vectorizer = text_vectorizer(model)
    learned = getattr(vectorizer, "vocabulary_", None) or {}
    words = {w for term in learned for w in str(term).split()}
    data = unwrap_data(sample_input)
    if not words and isinstance(data, list):
        words = {w for text in data if isinstance(text, str) for w in text.split()}
    return sorted(words) or ["model", "port"]


def _texts(model: Any, sample_input: Any, n: int, rng: np.random.Generator) -> list[str]:
    words = _vocabulary(model, sample_input)
    texts = ["", "   ", "?"]
    while len(texts) < n:
        chosen = [str(w) for w in rng.choice(words, size=int(rng.integers(1, 16)))]
        if rng.random() < 0.5:  # real questions repeat words ("array ... array"): term counts above 1
            chosen += [chosen[int(rng.integers(len(chosen)))]] * int(rng.integers(1, 4))
            rng.shuffle(chosen)
        for i in range(len(chosen)):
            if rng.random() < 0.1:  # a word the model never saw
                chosen[i] = "zq" + "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), size=5))
            elif rng.random() < 0.1:
                chosen[i] = chosen[i].upper()
        if rng.random() < 0.5:
            chosen[0] = chosen[0].capitalize()
        separator = str(rng.choice([" ", " ", " ", ", ", " - ", "  "]))
        texts.append(separator.join(chosen) + str(rng.choice(["", "?", ".", "!", "'s", " (2)"])))
    return texts[:n]


def generated_probe(
    model: Any,
    layout: InputLayout,
    sample_input: Any,
    n: int = GENERATED_ROWS,
    spread: float = SPREAD,
    seed: int = SEED,
) -> Probe:
    """``n`` generated rows (or texts) in the layout the registered sample uses."""
    rng = np.random.default_rng(seed)
    if layout.kind == "text":
        return Probe(f"{n} generated texts", _texts(model, sample_input, n, rng), n)
    centre = _sample_matrix(layout, sample_input)
    if centre is None:
        centre = np.zeros((1, int(layout.n_features or 0)))
    base = centre[np.arange(n) % len(centre)]
    noise = rng.normal(0.0, 1.0, size=base.shape) * spread * np.maximum(np.abs(base), 1.0)
    return Probe(f"{n} generated rows", _rows(layout, base + noise), n)


def sample_probe(layout: InputLayout, sample_input: Any) -> Probe | None:
    data = unwrap_data(sample_input)
    if data is None or (isinstance(data, list | dict) and not data):
        return None
    if layout.kind == "text":
        texts = data if isinstance(data, list) else [data]
        return Probe("the registered sample", texts, len(texts))
    matrix = _sample_matrix(layout, sample_input)
    return Probe("the registered sample", sample_input, 0 if matrix is None else len(matrix))


def first_rows(probe: Probe, count: int) -> Any:
    """The first ``count`` rows of a probe, in its layout."""
    data = unwrap_data(probe.payload)
    if isinstance(data, dict):
        return {k: (v[:count] if isinstance(v, list) else [v]) for k, v in data.items()}
    if isinstance(data, list) and data and not isinstance(data[0], list | str):
        return [data]  # a single row
    return data[:count]


# -- comparing -------------------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    item = value.item() if hasattr(value, "item") else value
    return f"{item:.9g}" if isinstance(item, float) else repr(item)


@dataclass
class _Tally:
    """Differences found so far, over every probe."""

    rows: int = 0
    differing: int = 0
    abs_diff: float = 0.0
    rel_diff: float = 0.0
    where: str = "-"
    first: str | None = None

    def note_first(self, probe: Probe, bad: np.ndarray, expected: np.ndarray, got: np.ndarray) -> None:
        self.differing += len({int(index[0]) for index in bad}) if bad.shape[1] else 1
        if self.first is None:
            at = tuple(bad[0])
            self.first = (
                f"{probe.label}, row {at[0] if at else 0}: original {_show(expected[at])}, ONNX {_show(got[at])}"
            )


def _compare_exact(probe: Probe, expected: np.ndarray, got: np.ndarray, tally: _Tally) -> None:
    numeric = expected.dtype.kind in "fiub" and got.dtype.kind in "fiub"
    same = np.asarray(expected == got) if numeric else np.asarray(expected.astype(str) == got.astype(str))
    if not same.all():
        tally.note_first(probe, np.argwhere(~same), expected, got)


def _compare_close(probe: Probe, expected: np.ndarray, got: np.ndarray, tolerance: Tolerance, tally: _Tally) -> None:
    reference = expected.astype(np.float64)
    answer = got.astype(np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.abs(answer - reference)
    diff = np.where(np.isnan(answer) & np.isnan(reference), 0.0, np.where(np.isnan(diff), np.inf, diff))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(reference != 0, diff / np.abs(reference), np.where(diff == 0, 0.0, np.inf))
    if diff.size and float(diff.max()) >= tally.abs_diff:
        tally.abs_diff = float(diff.max())
        at = np.unravel_index(int(diff.argmax()), diff.shape)
        tally.where = f"{probe.label}, row {int(at[0])}" if diff.ndim else probe.label
    if rel.size:
        tally.rel_diff = max(tally.rel_diff, float(rel.max()))
    close = np.isclose(answer, reference, rtol=tolerance.rtol, atol=tolerance.atol, equal_nan=True)
    if not close.all():
        tally.note_first(probe, np.argwhere(~close), reference, answer)


def compare(
    original: Runtime, optimized: Runtime, probes: list[Probe], tolerance: Tolerance, exact: bool
) -> Equivalence:
    """Score every probe with both runtimes and compare the answers, over all of them."""
    tally = _Tally()
    for probe in probes:
        expected = np.asarray(original.predict(probe.payload))
        try:
            got = np.asarray(optimized.predict(probe.payload))
        except ModelportError as exc:
            mismatch = f"the ONNX version fails on {probe.label}: {exc}"
            return Equivalence(False, exact, tally.rows, math.nan, math.nan, probe.label, mismatch)
        if expected.shape != got.shape:
            return Equivalence(
                False,
                exact,
                tally.rows,
                math.nan,
                math.nan,
                probe.label,
                f"the outputs have different shapes on {probe.label}: original {expected.shape}, ONNX {got.shape}",
            )
        tally.rows += len(expected) if expected.ndim else 1
        if exact or expected.dtype.kind not in "fiub" or got.dtype.kind not in "fiub":
            exact = True
            _compare_exact(probe, expected, got, tally)
        else:
            _compare_close(probe, expected, got, tolerance, tally)
    abs_diff, rel_diff = (math.nan, math.nan) if exact else (tally.abs_diff, tally.rel_diff)
    found: str | None = None
    if tally.first is not None:
        what = "the labels differ" if exact else f"the outputs differ beyond {tolerance.describe()}"
        sizes = (
            ""
            if exact
            else f": max abs diff {tally.abs_diff:.3g}, max rel diff {tally.rel_diff:.3g} (at {tally.where})"
        )
        found = f"{what} on {tally.differing} of {tally.rows} rows{sizes}; first at {tally.first}"
    return Equivalence(found is None, exact, tally.rows, abs_diff, rel_diff, "-" if exact else tally.where, found)
