"""``modelport optimize``: a registered scikit-learn model converted to ONNX (skl2onnx), checked to answer the same
on its sample and on generated inputs, timed against the original in-process, and registered as a new version of
the same name only when it is equivalent and faster.

A service layer beside ``serving/``: it uses the registry, the runtimes and the codecs, and knows no CLI or web
framework. skl2onnx and onnx are imported only when a conversion runs (the ``onnx`` extra).
"""

from .benchmark import Timing
from .convert import UnconvertibleError
from .equivalence import Equivalence, Tolerance
from .report import OptimizationRefusedError, OptimizeReport
from .service import optimize

__all__ = [
    "Equivalence",
    "OptimizationRefusedError",
    "OptimizeReport",
    "Timing",
    "Tolerance",
    "UnconvertibleError",
    "optimize",
]
