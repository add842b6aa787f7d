"""scikit-learn models to ONNX with skl2onnx, laid out so the ONNX runtime answers what the sklearn runtime did.

The input layout follows the registered sample: a list of rows becomes one float32 tensor ``input`` of shape
``[N, n_features]``; an object of columns becomes one ``[N, 1]`` input per column, named exactly as the columns
(skl2onnx's own multi-input naming would rewrite ``sepal length (cm)`` and would not concatenate for a bare
estimator, so a ``Concat`` is put in front); a list of strings becomes one string tensor ``[N, 1]`` for a text
pipeline. The output is the one the registered runtime option ``method`` picks: ``predict`` -> ``label`` (a
classifier) or ``variable`` (a regressor), ``predict_proba`` -> ``probabilities`` (without skl2onnx's ZipMap).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..codecs.tabular import unwrap_data
from ..errors import InvalidInputError
from ..runtimes._imports import require
from .fixes import conversion_functions

# ONNX's StringNormalizer defaults to en_US.UTF-8, which slim images (python:3.11-slim) and many servers lack;
# C.UTF-8 ships with glibc and lowercases the same for the text TF-IDF sees.
TEXT_LOCALE = "C.UTF-8"
_TEXT_VECTORIZERS = ("CountVectorizer", "TfidfVectorizer", "HashingVectorizer")
# Opsets every onnxruntime modelport supports (>= 1.17) runs, so a version converted here loads where it is served.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


class UnconvertibleError(InvalidInputError):
    """skl2onnx cannot convert the model, or modelport cannot lay its ONNX version out like the original."""

    code = "unconvertible"


@dataclass(frozen=True)
class InputLayout:
    """How requests reach the model: ``rows`` (one 2-D tensor), ``columns`` (one tensor per column) or ``text``."""

    kind: str
    n_features: int | None = None
    columns: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "text":
            return "text: one string tensor 'input' [N, 1]"
        if self.kind == "columns":
            return f"columns: {len(self.columns)} float32 tensors [N, 1], one per column"
        return f"rows: one float32 tensor 'input' [N, {self.n_features}]"


@dataclass(frozen=True)
class Conversion:
    """An ONNX model (an ``onnx.ModelProto``) and the ONNX runtime options that make it answer like the original."""

    model: Any
    layout: InputLayout
    output: str
    opset: int
    notes: list[str] = field(default_factory=list)

    @property
    def runtime_options(self) -> dict[str, Any]:
        return {"outputs": [self.output]}


def _estimators(model: Any) -> list[Any]:
    """The model and, for a pipeline, its steps (the last one is the predictor)."""
    steps = getattr(model, "steps", None)
    if steps:
        return [model, *(step for _, step in steps if step not in (None, "passthrough"))]
    return [model]


def _final(model: Any) -> Any:
    return _estimators(model)[-1]


def text_vectorizer(model: Any) -> Any | None:
    """The text vectorizer a pipeline starts with (or the model itself), else None."""
    estimators = _estimators(model)
    first = estimators[1] if len(estimators) > 1 else estimators[0]
    return first if type(first).__name__ in _TEXT_VECTORIZERS else None


def input_layout(model: Any, sample_input: Any) -> InputLayout:
    """The ONNX input layout for a model and its registered sample input (None when there is none)."""
    data = unwrap_data(sample_input)
    if text_vectorizer(model) is not None or (isinstance(data, list) and data and isinstance(data[0], str)):
        return InputLayout("text")
    names = getattr(model, "feature_names_in_", None)
    n_features = getattr(model, "n_features_in_", None)
    if isinstance(data, dict):
        columns = [str(n) for n in names] if names is not None else [str(k) for k in data]
        return InputLayout("columns", n_features=len(columns), columns=tuple(columns))
    if isinstance(data, list) and data and isinstance(data[0], dict):
        raise UnconvertibleError(
            "the registered sample input is a list of records, which the ONNX runtime does not take: register the "
            "sample as rows ([[...], ...]) or as an object of columns ({column: [...]})"
        )
    if isinstance(data, list) and data:
        first = data[0]
        width = len(first) if isinstance(first, list) else len(data)
        return InputLayout("rows", n_features=int(n_features) if n_features is not None else width)
    if n_features is None:
        raise UnconvertibleError(
            f"{type(model).__name__} has no sample input and no n_features_in_: modelport cannot tell its inputs"
        )
    return InputLayout("rows", n_features=int(n_features))


def _kind(estimator: Any) -> str:
    """``classifier``, ``regressor`` or ``transformer``; objects that are not scikit-learn estimators (no tags) are
    told apart by what they have."""
    from sklearn.base import is_classifier, is_regressor

    try:
        if is_classifier(estimator):
            return "classifier"
        if is_regressor(estimator):
            return "regressor"
    except (AttributeError, TypeError):  # not a BaseEstimator: scikit-learn cannot read its tags
        if hasattr(estimator, "classes_"):
            return "classifier"
        if hasattr(estimator, "predict"):
            return "regressor"
    return "transformer"


def output_name(model: Any, method: str) -> str:
    """The skl2onnx output that answers what ``method`` answers."""
    final = _final(model)
    kind = _kind(final)
    if kind == "classifier":
        choices = {"predict": "label", "predict_proba": "probabilities"}
    elif kind == "regressor":
        choices = {"predict": "variable"}
    else:
        choices = {"transform": "variable"}
    if method not in choices:
        raise UnconvertibleError(
            f"the registered method {method}() of {type(final).__name__} has no ONNX output modelport maps to; "
            f"it maps {', '.join(m + '()' for m in choices)}"
        )
    return choices[method]


def _initial_types(layout: InputLayout) -> list[tuple[str, Any]]:
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    if layout.kind == "text":
        return [("input", StringTensorType([None, 1]))]
    return [("input", FloatTensorType([None, layout.n_features]))]


def _options(model: Any) -> dict[int, dict[str, Any]]:
    options: dict[int, dict[str, Any]] = {}
    for estimator in _estimators(model):
        if type(estimator).__name__ in _TEXT_VECTORIZERS:
            options[id(estimator)] = {"locale": TEXT_LOCALE}
        elif _kind(estimator) == "classifier" and not hasattr(estimator, "steps"):
            options[id(estimator)] = {"zipmap": False}
    return options


def _unsupported(model: Any, exc: Exception) -> str:
    """Which estimator skl2onnx has no converter for, from its message."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for estimator in _estimators(model)[::-1]:
        if type(estimator).__name__ in message:
            within = f" (in {type(model).__name__})" if estimator is not model else ""
            return f"skl2onnx cannot convert {type(estimator).__name__}{within}: {message}"
    return f"skl2onnx cannot convert {type(model).__name__}: {message}"


def convert(model: Any, method: str, sample_input: Any) -> Conversion:
    """Convert a fitted scikit-learn model; raise ``UnconvertibleError`` saying why when it cannot be."""
    require("onnx", "onnx", "converting a model to ONNX")
    skl2onnx = require("skl2onnx", "onnx", "converting a scikit-learn model to ONNX")
    layout = input_layout(model, sample_input)
    output = output_name(model, method)
    try:
        proto = skl2onnx.convert_sklearn(
            model,
            initial_types=_initial_types(layout),
            options=_options(model),
            target_opset=dict(TARGET_OPSET),
            custom_conversion_functions=conversion_functions(),
        )
    except Exception as exc:  # skl2onnx raises RuntimeError, NotImplementedError, its own types...
        raise UnconvertibleError(_unsupported(model, exc)) from exc
    available = [o.name for o in proto.graph.output]
    if output not in available:
        raise UnconvertibleError(
            f"the ONNX conversion of {type(model).__name__} has outputs {', '.join(available)}, not {output!r}"
        )
    if layout.kind == "columns":
        proto = columns_front(proto, layout.columns)
    proto = batch_outputs(proto)
    notes = []
    if layout.kind == "text":
        notes.append(f"text is lowercased in the {TEXT_LOCALE} locale (ONNX StringNormalizer)")
        if any(getattr(e, "sublinear_tf", False) for e in _estimators(model)):
            notes.append("sublinear_tf: 1 + log(tf) as scikit-learn computes it, not skl2onnx's log(1 + tf)")
    else:
        notes.append("inputs are cast to float32")
    opset = max((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), default=0)
    return Conversion(model=proto, layout=layout, output=output, opset=opset, notes=notes)


def batch_outputs(proto: Any) -> Any:
    """Make every output's first dimension the batch's (``N``). skl2onnx declares some as 1 (a pipeline that starts
    with a ``CountVectorizer``: ``probabilities`` [1, C]), and onnxruntime then warns on every call of more rows."""
    for output in proto.graph.output:
        dims = output.type.tensor_type.shape.dim
        if len(dims) and dims[0].HasField("dim_value"):
            dims[0].dim_param = "N"  # a oneof: clears the fixed size
    return proto


def columns_front(proto: Any, columns: Sequence[str]) -> Any:
    """Replace the single ``input`` [N, n] by one [N, 1] input per column, concatenated in order."""
    from onnx import TensorProto, helper

    graph = proto.graph
    inner = "modelport_concatenated_columns"
    for node in graph.node:
        node.input[:] = [inner if name == "input" else name for name in node.input]
    del graph.input[:]
    graph.input.extend(helper.make_tensor_value_info(c, TensorProto.FLOAT, [None, 1]) for c in columns)
    graph.node.insert(0, helper.make_node("Concat", list(columns), [inner], axis=1, name="modelport_columns"))
    return proto


def squeeze_output(proto: Any, name: str) -> Any:
    """Reshape an ``[N, 1]`` output to ``[N]``, the shape a single-target regressor's ``predict`` returns."""
    from onnx import helper, numpy_helper

    graph = proto.graph
    wide = f"{name}_modelport_2d"
    for node in graph.node:
        node.output[:] = [wide if o == name else o for o in node.output]
    shape = "modelport_flat_shape"
    graph.initializer.append(numpy_helper.from_array(np.asarray([-1], dtype=np.int64), shape))
    graph.node.append(helper.make_node("Reshape", [wide, shape], [name], name="modelport_squeeze"))
    for output in graph.output:
        if output.name == name:
            elem_type = output.type.tensor_type.elem_type
            output.CopyFrom(helper.make_tensor_value_info(name, elem_type, [None]))
    return proto
