"""modelport's stand-in converters answer as scikit-learn does, with the options skl2onnx's own converters take."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")


def _run(proto: Any, texts: list[str]) -> Any:
    import onnxruntime as ort

    session = ort.InferenceSession(proto.SerializeToString())
    return session.run(None, {"input": np.array(texts, dtype=object).reshape(-1, 1)})[0]


@pytest.mark.parametrize("settings", [{}, {"use_idf": False}, {"norm": None}, {"norm": "l1", "smooth_idf": False}])
def test_sublinear_tf_weights_equal_scikit_learns(faq_texts: tuple[list[str], list[str]], settings: Any) -> None:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType
    from sklearn.feature_extraction.text import TfidfVectorizer

    from modelport.optimize.fixes import conversion_functions

    texts = faq_texts[0]
    vectorizer = TfidfVectorizer(sublinear_tf=True, **settings).fit(texts)
    proto = convert_sklearn(
        vectorizer,
        initial_types=[("input", StringTensorType([None, 1]))],
        options={id(vectorizer): {"locale": "C.UTF-8"}},
        target_opset={"": 17, "ai.onnx.ml": 3},
        custom_conversion_functions=conversion_functions(),
    )
    asked = [*texts[:5], "array array array", "sort sort an array"]
    np.testing.assert_allclose(_run(proto, asked), vectorizer.transform(asked).toarray(), rtol=1e-5, atol=1e-6)


def test_the_nan_option_given_by_id_reaches_the_converter(faq_texts: tuple[list[str], list[str]]) -> None:
    """skl2onnx finds options by class or by ``id(estimator)``; the stand-in converts a copy, which gets them too."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType
    from sklearn.feature_extraction.text import TfidfVectorizer

    from modelport.optimize.fixes import conversion_functions

    texts = faq_texts[0]
    vectorizer = TfidfVectorizer(sublinear_tf=True).fit(texts)
    proto = convert_sklearn(
        vectorizer,
        initial_types=[("input", StringTensorType([None, 1]))],
        options={id(vectorizer): {"nan": True, "locale": "C.UTF-8"}},
        target_opset={"": 17, "ai.onnx.ml": 3},
        custom_conversion_functions=conversion_functions(),
    )
    want = vectorizer.transform(texts[:5]).toarray()
    want[want == 0] = np.nan
    np.testing.assert_allclose(_run(proto, texts[:5]), want, rtol=1e-5, atol=1e-6, equal_nan=True)
