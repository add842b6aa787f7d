"""Open Inference Protocol (KServe V2) REST tensors: inference requests to numpy arrays, predictions to responses.

A request is ``{"id"?, "parameters"?, "inputs": [{"name", "shape", "datatype", "parameters"?, "data"}],
"outputs"?: [{"name", "parameters"?}]}`` and a response ``{"model_name", "model_version"?, "id"?, "parameters"?,
"outputs": [{"name", "shape", "datatype", "data"}]}``; ``data`` is row-major, flat or nested in a request and flat
in a response. Datatypes map to numpy as BOOL -> bool, UINT8..UINT64, INT8..INT64, FP16/FP32/FP64 -> the matching
types, BYTES -> an object array (``str``, or ``bytes`` where binary data is not UTF-8).

The binary tensor extension (Triton's; tritonclient uses it by default) is supported both ways: the HTTP header
``Inference-Header-Content-Length`` gives the size of the JSON, and the bytes after it hold, in tensor order, the
tensors whose ``parameters.binary_data_size`` says how many bytes are theirs: fixed-size types as little-endian raw
arrays, BYTES as a 4-byte little-endian length before each element's bytes.

Choices where the protocol leaves room:

- NaN and infinity, which JSON lacks, are written as ``null`` (standard JSON, as everywhere in modelport;
  tritonclient reads ``null`` in a floating-point output as NaN). Ask for binary output to get them exactly.
  Requests may carry ``null`` (read as NaN) in floating-point data, and the bare ``NaN``/``Infinity`` that Triton
  and tritonclient write.
- Results that are not tensors: a scalar is a tensor of shape ``[1]``; text is BYTES; an array or list of other
  objects (skl2onnx's ZipMap gives a list of ``{label: probability}`` dicts) is BYTES holding each element's JSON,
  e.g. ``'{"0": 0.1, "1": 0.9}'``; ragged lists are BYTES of their items' JSON, one per item.
- Output names: the keys of a dict result; else the signature's output names (one output, or a tuple with one
  item per output); else ``output-0``.
"""

from __future__ import annotations

import json as _stdlib_json
import math
import struct
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInputError
from .json import dumps, loads
from .signature import Signature, numpy_to_v2

HEADER_LENGTH = "inference-header-content-length"
"""The HTTP header that gives the size of the JSON part of a body holding binary tensors."""

DEFAULT_OUTPUT = "output-0"

DATATYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(np.object_),
}

Array = npt.NDArray[Any]


@dataclass(frozen=True, eq=False)
class V2Tensor:
    """One tensor of a request or response: ``data`` has ``shape`` and the numpy type of ``datatype``."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    data: Array
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class V2RequestedOutput:
    name: str
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class V2Request:
    inputs: tuple[V2Tensor, ...]
    outputs: tuple[V2RequestedOutput, ...] = ()
    id: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def output_names(self) -> list[str]:
        """The outputs asked for, in order; empty when the request wants them all."""
        return [o.name for o in self.outputs]

    def binary_outputs(self, names: Iterable[str]) -> set[str]:
        """Which of ``names`` go in binary: an output's ``binary_data``, else the request's ``binary_data_output``."""
        default = bool(self.parameters.get("binary_data_output", False))
        asked = {o.name: o.parameters.get("binary_data") for o in self.outputs}
        return {n for n in names if (default if asked.get(n) is None else asked[n])}


@dataclass(frozen=True, eq=False)
class V2Response:
    model_name: str
    outputs: tuple[V2Tensor, ...]
    model_version: str | None = None
    id: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


# -- decoding ------------------------------------------------------------------------------------------------------


def parse_header_length(value: str | None) -> int | None:
    """The value of ``Inference-Header-Content-Length`` as an int (``None`` when the header is absent)."""
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit():
        raise InvalidInputError(f"the Inference-Header-Content-Length header must be a byte count, got {value!r}")
    return int(text)


def decode_request(body: bytes, header_length: int | None = None) -> V2Request:
    """Parse and check an inference request; ``header_length`` is the ``Inference-Header-Content-Length`` header."""
    doc, binary = _split(body, header_length, "inference request")
    parameters = _parameters(doc.get("parameters"), "the request")
    if not isinstance(parameters.get("binary_data_output", False), bool):
        raise InvalidInputError("the request's parameters.binary_data_output must be true or false")
    request_id = doc.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInputError(f"the request's id must be a string, not {_describe(request_id)}")
    inputs = _tensors(doc, "inputs", binary)
    return V2Request(inputs, _requested_outputs(doc.get("outputs")), request_id, parameters)


def decode_response(body: bytes, header_length: int | None = None) -> V2Response:
    """Parse an inference response (for clients and tests); the same checks as for requests."""
    doc, binary = _split(body, header_length, "inference response")
    name, version, response_id = doc.get("model_name"), doc.get("model_version"), doc.get("id")
    if not isinstance(name, str) or not all(v is None or isinstance(v, str) for v in (version, response_id)):
        raise InvalidInputError("the response's model_name, model_version and id must be strings")
    parameters = _parameters(doc.get("parameters"), "the response")
    return V2Response(name, _tensors(doc, "outputs", binary), version, response_id, parameters)


class _Binary:
    """The bytes after the JSON, handed out in tensor order."""

    def __init__(self, data: memoryview) -> None:
        self.data, self.offset = data, 0

    def take(self, size: int, where: str) -> memoryview:
        left = len(self.data) - self.offset
        if size > left:
            raise InvalidInputError(
                f"{where}: binary_data_size is {size} but only {left} byte(s) of binary data are left for it"
            )
        self.offset += size
        return self.data[self.offset - size : self.offset]

    def finish(self) -> None:
        if self.offset != len(self.data):
            raise InvalidInputError(
                f"the body holds {len(self.data)} byte(s) after the JSON header but the tensors' binary_data_size "
                f"add up to {self.offset}"
            )


def _split(body: bytes, header_length: int | None, what: str) -> tuple[dict[str, Any], _Binary | None]:
    binary = None
    if header_length is not None:
        if not 0 <= header_length <= len(body):
            raise InvalidInputError(
                f"Inference-Header-Content-Length is {header_length} but the body has {len(body)} byte(s)"
            )
        binary = _Binary(memoryview(body)[header_length:])
        body = body[:header_length]
    doc = _load_json(body, what)
    if not isinstance(doc, dict):
        raise InvalidInputError(f"the {what} must be a JSON object, not {_describe(doc)}")
    return doc, binary


def _load_json(data: bytes, what: str) -> Any:
    try:
        return loads(data, what)
    except InvalidInputError as exc:  # orjson refuses the NaN and Infinity that Triton and tritonclient write
        if b"NaN" not in data and b"Infinity" not in data:
            raise
        try:
            return _stdlib_json.loads(data)
        except (ValueError, RecursionError):
            raise exc from exc.__cause__


def _parameters(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInputError(f"{where}: parameters must be an object, not {_describe(value)}")
    if "shared_memory_region" in value:
        raise InvalidInputError(f"{where}: the shared memory extension is not supported; send the data in the body")
    return value


def _tensors(doc: dict[str, Any], key: str, binary: _Binary | None) -> tuple[V2Tensor, ...]:
    raw = doc.get(key)
    if raw is None:
        raise InvalidInputError(f"the body has no {key!r}: expected a list of tensors")
    if not isinstance(raw, list) or (key == "inputs" and not raw):
        raise InvalidInputError(f"{key!r} must be a non-empty list of tensors, not {_describe(raw)}")
    tensors: dict[str, V2Tensor] = {}
    for index, item in enumerate(raw):
        tensor = _tensor(item, f"{key}[{index}]", key[:-1], binary)
        if tensor.name in tensors:
            raise InvalidInputError(f"{key[:-1]} {tensor.name!r} appears more than once")
        tensors[tensor.name] = tensor
    if binary is not None:
        binary.finish()
    return tuple(tensors.values())


def _tensor(raw: Any, position: str, noun: str, binary: _Binary | None) -> V2Tensor:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise InvalidInputError(f"{position} must be an object with a name, shape, datatype and data")
    name: str = raw["name"]
    where = f"{noun} {name!r}"
    datatype = raw.get("datatype")
    if datatype is None:
        raise InvalidInputError(f"{where} has no datatype")
    if datatype not in DATATYPES:
        shown = repr(datatype) if isinstance(datatype, str) else _describe(datatype)
        hint = " (numpy has no bfloat16: send FP32)" if datatype == "BF16" else ""
        raise InvalidInputError(
            f"{where} has unsupported datatype {shown}{hint}; the datatypes are {', '.join(DATATYPES)}"
        )
    shape = raw.get("shape")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise InvalidInputError(f"{where}: shape must be a list of non-negative integers, not {_describe(shape)}")
    count = math.prod(shape)
    parameters = _parameters(raw.get("parameters"), where)
    size = parameters.get("binary_data_size")
    if size is None:
        if "data" not in raw:
            raise InvalidInputError(f"{where} has no data (nor parameters.binary_data_size)")
        array = _from_json(raw["data"], datatype, count, shape, where)
    elif "data" in raw:
        raise InvalidInputError(f"{where} has both data and parameters.binary_data_size; send one")
    elif type(size) is not int or size < 0:
        raise InvalidInputError(f"{where}: parameters.binary_data_size must be a byte count, not {_describe(size)}")
    elif binary is None:
        raise InvalidInputError(
            f"{where} has parameters.binary_data_size but there is no Inference-Header-Content-Length header"
        )
    else:
        array = _from_binary(binary.take(size, where), datatype, count, shape, where)
    return V2Tensor(name, datatype, tuple(shape), array.reshape(shape), parameters)


_ALLOWED: dict[str, set[type]] = {"BOOL": {bool}, "BYTES": {str}, "FP": {int, float, type(None)}, "INT": {int}}
_EXPECTED = {"BOOL": "true or false", "BYTES": "strings", "FP": "numbers (or null for NaN)", "INT": "integers"}


def _from_json(data: Any, datatype: str, count: int, shape: list[int], where: str) -> Array:
    if not isinstance(data, list):
        raise InvalidInputError(f"{where}: data must be a list (flat or nested), not {_describe(data)}")
    flat = _flatten(data)
    if len(flat) != count:
        raise InvalidInputError(f"{where}: shape {shape} holds {count} element(s) but data has {len(flat)}")
    family = "FP" if datatype.startswith("FP") else "INT" if "INT" in datatype else datatype
    allowed = _ALLOWED[family]
    if not set(map(type, flat)) <= allowed:
        index, bad = next((i, v) for i, v in enumerate(flat) if type(v) not in allowed)
        raise InvalidInputError(
            f"{where}: {datatype} data must be {_EXPECTED[family]}; element {index} is {_describe(bad)}"
        )
    dtype = DATATYPES[datatype]
    if family == "INT" and flat:
        info = np.iinfo(dtype)
        low, high = min(flat), max(flat)
        if low < info.min or high > info.max:
            raise InvalidInputError(f"{where}: {low if low < info.min else high} is out of range for {datatype}")
    if family == "FP":
        try:
            with np.errstate(over="raise"):
                return np.array(flat, dtype=np.float64).astype(dtype)
        except (OverflowError, FloatingPointError) as exc:
            raise InvalidInputError(f"{where}: a value is out of range for {datatype}") from exc
    return np.array(flat, dtype=dtype)


def _flatten(data: list[Any]) -> list[Any]:
    """Row-major elements of nested lists, without recursion (JSON may nest deeper than Python's stack)."""
    if not any(isinstance(v, list) for v in data):
        return data
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        for value in stack[-1]:
            if not isinstance(value, list):
                flat.append(value)
            elif list in set(map(type, value)):
                stack.append(iter(value))
                break
            else:
                flat.extend(value)  # a row of scalars, the usual case: at C speed
        else:
            stack.pop()
    return flat


def _from_binary(chunk: memoryview, datatype: str, count: int, shape: list[int], where: str) -> Array:
    if datatype == "BYTES":
        return _bytes_elements(chunk, count, where)
    dtype = DATATYPES[datatype]
    if len(chunk) != count * dtype.itemsize:
        raise InvalidInputError(
            f"{where}: shape {shape} of {datatype} takes {count * dtype.itemsize} byte(s) "
            f"but binary_data_size is {len(chunk)}"
        )
    if datatype == "BOOL" and count and np.frombuffer(chunk, dtype=np.uint8).max() > 1:
        raise InvalidInputError(f"{where}: binary BOOL data must be bytes 0 or 1")
    return np.frombuffer(chunk, dtype=dtype.newbyteorder("<")).astype(dtype)  # a native, writeable copy


def _bytes_elements(chunk: memoryview, count: int, where: str) -> Array:
    size = len(chunk)
    if count * 4 > size:
        raise InvalidInputError(f"{where}: {count} BYTES element(s) need at least {count * 4} bytes, got {size}")
    elements = np.empty(count, dtype=np.object_)
    offset = 0
    for index in range(count):
        if offset + 4 > size:
            raise InvalidInputError(f"{where}: the binary data ends before BYTES element {index}")
        (length,) = struct.unpack_from("<I", chunk, offset)
        offset += 4
        if offset + length > size:
            raise InvalidInputError(
                f"{where}: BYTES element {index} claims {length} byte(s) but {size - offset} are left"
            )
        raw = bytes(chunk[offset : offset + length])
        offset += length
        try:
            elements[index] = raw.decode("utf-8")
        except UnicodeDecodeError:
            elements[index] = raw
    if offset != size:
        raise InvalidInputError(f"{where}: {size - offset} byte(s) are left after its {count} BYTES element(s)")
    return elements


def _requested_outputs(raw: Any) -> tuple[V2RequestedOutput, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidInputError(
            f"the request's outputs must be a list of {{'name': ...}} objects, not {_describe(raw)}"
        )
    outputs: dict[str, V2RequestedOutput] = {}
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise InvalidInputError(f"outputs[{index}] must be an object with a name")
        name, where = item["name"], f"requested output {item['name']!r}"
        parameters = _parameters(item.get("parameters"), where)
        if not isinstance(parameters.get("binary_data", False), bool):
            raise InvalidInputError(f"{where}: parameters.binary_data must be true or false")
        if "classification" in parameters:
            raise InvalidInputError(f"{where}: the classification extension is not supported")
        if name in outputs:
            raise InvalidInputError(f"{where} appears more than once")
        outputs[name] = V2RequestedOutput(name, parameters)
    return tuple(outputs.values())


def _describe(value: Any) -> str:
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}
    if value is None:
        return "null"
    text = repr(value)
    return f"{kinds.get(type(value), type(value).__name__)} {text if len(text) <= 40 else text[:37] + '...'}"


# -- model inputs and outputs --------------------------------------------------------------------------------------


def inputs_as_payload(request: V2Request) -> Any:
    """What a runtime's ``predict`` takes: one input's array (1-D BYTES as a list of str), or a dict name -> array.

    Several inputs that are each one column of a table (all of shape ``[N]`` or ``[N, 1]``, the same N) become 1-D
    arrays, so tabular models fed one tensor per column get their columns; other inputs keep their shapes.
    """
    if len(request.inputs) == 1:
        only = request.inputs[0]
        return list(only.data) if only.datatype == "BYTES" and only.data.ndim == 1 else only.data
    rows = {t.shape[0] if len(t.shape) == 1 or t.shape[1:] == (1,) else None for t in request.inputs}
    if len(rows) == 1 and None not in rows:
        return {t.name: t.data.reshape(-1) for t in request.inputs}
    return {t.name: t.data for t in request.inputs}


def name_outputs(result: Any, signature: Signature | None = None) -> list[tuple[str, Any]]:
    """A prediction as named outputs: a dict's items; else the signature's output names; else ``output-0``."""
    if isinstance(result, Mapping):
        return [(str(key), value) for key, value in result.items()]
    names = [spec.name for spec in signature.outputs] if signature is not None else []
    if isinstance(result, tuple) and len(names) > 1 and len(result) == len(names):
        return list(zip(names, result, strict=True))
    return [(names[0] if len(names) == 1 else DEFAULT_OUTPUT, result)]


def select_outputs(outputs: list[tuple[str, Any]], requested: Iterable[str]) -> list[tuple[str, Any]]:
    """The requested outputs in the order asked (all when none are asked for)."""
    wanted = list(requested)
    if not wanted:
        return outputs
    available = dict(outputs)
    missing = [name for name in wanted if name not in available]
    if missing:
        raise InvalidInputError(
            f"the model has no output {', '.join(map(repr, missing))}; its outputs are "
            + ", ".join(map(repr, available))
        )
    return [(name, available[name]) for name in wanted]


# -- encoding ------------------------------------------------------------------------------------------------------


def encode_prediction(
    request: V2Request, result: Any, model_name: str, model_version: str | int | None, signature: Signature | None
) -> tuple[bytes, dict[str, str]]:
    """The response to ``request`` for a runtime's ``result``: outputs named, filtered, binary where asked."""
    outputs = select_outputs(name_outputs(result, signature), request.output_names)
    binary = request.binary_outputs(name for name, _ in outputs)
    return encode_response(model_name, model_version, request.id, outputs, binary)


def encode_response(
    model_name: str,
    model_version: str | int | None,
    request_id: str | None,
    outputs: Mapping[str, Any] | Iterable[tuple[str, Any]],
    binary: bool | Collection[str] = False,
    parameters: Mapping[str, Any] | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The response body and its headers; ``binary``: send all outputs (True) or those named in binary."""
    items = list(outputs.items()) if isinstance(outputs, Mapping) else list(outputs)
    entries: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for name, value in items:
        datatype, array = to_tensor(name, value)
        entry: dict[str, Any] = {"name": name, "datatype": datatype, "shape": list(array.shape)}
        if binary is True or (not isinstance(binary, bool) and name in binary):
            chunks.append(_raw_bytes(array, datatype))
            entry["parameters"] = {"binary_data_size": len(chunks[-1])}
        else:
            entry["data"] = _json_data(name, array, datatype)
        entries.append(entry)
    doc: dict[str, Any] = {"model_name": model_name}
    if model_version is not None:
        doc["model_version"] = str(model_version)
    if request_id is not None:
        doc["id"] = request_id
    if parameters:
        doc["parameters"] = dict(parameters)
    doc["outputs"] = entries
    header = dumps(doc)
    if not chunks:
        return header, {"content-type": "application/json"}
    headers = {"content-type": "application/octet-stream", HEADER_LENGTH: str(len(header))}
    return b"".join([header, *chunks]), headers


def to_tensor(name: str, value: Any) -> tuple[str, Array]:
    """The datatype and array (native byte order, at least 1-D) an output is sent as."""
    array = _as_array(value)
    if array.ndim == 0:
        array = array.reshape(1)
    kind = array.dtype.kind
    if kind in "biu" or (kind == "f" and array.dtype.itemsize in (2, 4, 8)):
        return numpy_to_v2(array.dtype), array.astype(array.dtype.newbyteorder("="), copy=False)
    if kind in "USMm":
        return "BYTES", (array.astype(np.str_) if kind in "Mm" else array).astype(np.object_)
    if kind != "O":
        raise TypeError(f"output {name!r} is a {array.dtype} array, which the Open Inference Protocol cannot carry")
    try:
        texts = [v if isinstance(v, str | bytes) else dumps(v).decode() for v in array.reshape(-1)]
    except TypeError as exc:
        raise TypeError(f"output {name!r}: {exc}") from exc
    elements = np.empty(len(texts), dtype=np.object_)
    elements[:] = texts
    return "BYTES", elements.reshape(array.shape)


def _as_array(value: Any) -> Array:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, str | bytes | Mapping):  # kept whole: numpy would strip bytes' trailing NULs
        single = np.empty(1, dtype=np.object_)
        single[0] = value
        return single
    if hasattr(value, "to_numpy"):  # pandas
        return np.asarray(value.to_numpy())
    if hasattr(value, "toarray"):  # scipy sparse
        return np.asarray(value.toarray())
    try:
        return np.asarray(value)
    except ValueError:  # ragged lists: one element per item
        items = np.empty(len(value), dtype=np.object_)
        items[:] = [v if isinstance(v, str | bytes) else dumps(v).decode() for v in value]
        return items


def _json_data(name: str, array: Array, datatype: str) -> Any:
    if datatype != "BYTES":
        return np.ascontiguousarray(array.reshape(-1))  # orjson writes it natively, NaN and infinity as null
    try:
        return [v.decode() if isinstance(v, bytes) else v for v in array.reshape(-1)]
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"output {name!r} holds bytes that are not UTF-8, which JSON cannot carry: ask for it in binary "
            "(parameters.binary_data: true)"
        ) from exc


def _raw_bytes(array: Array, datatype: str) -> bytes:
    if datatype != "BYTES":
        return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    parts: list[bytes] = []
    for value in array.reshape(-1):
        data = value if isinstance(value, bytes) else str(value).encode()
        parts += [struct.pack("<I", len(data)), data]
    return b"".join(parts)
