"""Wire formats: JSON encoding of predictions, request payloads to model inputs, signatures."""

from .json import dumps, loads, to_jsonable
from .signature import Signature, TensorSpec, infer_signature
from .tabular import unwrap_data

__all__ = ["Signature", "TensorSpec", "dumps", "infer_signature", "loads", "to_jsonable", "unwrap_data"]
