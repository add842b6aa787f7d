"""Converters that stand in for skl2onnx's where its ONNX answers unlike scikit-learn.

skl2onnx looks these up per model class (``custom_conversion_functions``); each one handles the operator it fixes and
hands every other operator of that class back to skl2onnx's own converter.

- **sublinear_tf** (``TfidfTransformer``, and the one inside a ``TfidfVectorizer``): scikit-learn replaces each
  non-zero term count ``tf`` by ``1 + log(tf)`` and leaves zeros alone; skl2onnx 1.20 computes ``log(1 + tf)``
  everywhere, which changes every weight (``tf = 1`` gives ``log 2`` instead of 1). Here the count matrix goes
  through ``Where(tf > 0, 1 + Log(tf), 0)`` first, and skl2onnx's converter then applies the idf and the norm to it
  as for ``sublinear_tf=False``.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

_TFIDF_TRANSFORMER = "SklearnTfidfTransformer"


class _Reading:
    """An operator as skl2onnx's converter reads it, with other input names and another estimator."""

    def __init__(self, operator: Any, input_full_names: list[str], raw_operator: Any) -> None:
        self._operator = operator
        self.input_full_names = input_full_names
        self.raw_operator = raw_operator

    def __getattr__(self, name: str) -> Any:
        return getattr(self._operator, name)


def _sublinear_tf(scope: Any, operator: Any, container: Any) -> None:
    from onnx import TensorProto
    from skl2onnx.common._registration import get_converter
    from skl2onnx.common.data_types import guess_numpy_type

    convert = get_converter(operator.type)
    estimator = operator.raw_operator
    if operator.type != _TFIDF_TRANSFORMER or not estimator.sublinear_tf:
        convert(scope, operator, container)
        return
    double = guess_numpy_type(operator.inputs[0].type) == np.float64
    proto_type = TensorProto.DOUBLE if double else TensorProto.FLOAT

    def name(prefix: str) -> str:
        return str(scope.get_unique_variable_name(f"sublinear_{prefix}"))

    def node(op_type: str, inputs: list[str]) -> str:
        output = name(op_type.lower())
        container.add_node(op_type, inputs, output, name=scope.get_unique_operator_name(f"Sublinear{op_type}"))
        return output

    counts = operator.input_full_names[0]
    zero, one = name("zero"), name("one")
    container.add_initializer(zero, proto_type, [], [0.0])
    container.add_initializer(one, proto_type, [], [1.0])
    # Log(0) is -inf, and Where keeps it out of the result: the zeros stay zeros, as in scikit-learn's sparse matrix.
    weights = node("Where", [node("Greater", [counts, zero]), node("Add", [node("Log", [counts]), one]), zero])
    plain = copy.copy(estimator)  # a shallow copy: the fitted idf is shared, only the flag differs
    plain.sublinear_tf = False
    options = getattr(container, "options", None)  # skl2onnx finds options by class or by id(): the copy's too
    if isinstance(options, dict) and id(estimator) in options:
        options[id(plain)] = options[id(estimator)]
    try:
        convert(scope, _Reading(operator, [weights], plain), container)
    finally:
        if isinstance(options, dict):
            options.pop(id(plain), None)


def conversion_functions() -> dict[type, Any]:
    """The ``custom_conversion_functions`` for ``skl2onnx.convert_sklearn``."""
    from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

    return {TfidfVectorizer: _sublinear_tf, TfidfTransformer: _sublinear_tf}
