"""In-memory models to files: the native format of the framework when it has one, joblib otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InvalidInputError


def dump_object(obj: Any, folder: Path) -> tuple[Path, str]:
    """Write ``obj`` into ``folder``; return (file, framework)."""
    module = type(obj).__module__
    kind = type(obj).__name__
    if module.startswith("onnx") and kind == "ModelProto":
        path = folder / "model.onnx"
        path.write_bytes(obj.SerializeToString())
        return path, "onnx"
    if module.startswith("lightgbm") and kind == "Booster":
        path = folder / "model.txt"
        obj.save_model(str(path))
        return path, "lightgbm"
    if module.startswith("xgboost") and kind == "Booster":
        path = folder / "model.json"
        obj.save_model(str(path))
        return path, "xgboost"
    if module.startswith("torch"):
        raise InvalidInputError(
            "PyTorch objects are not registered from memory: save the model with torch.save (or export it to "
            "ONNX) and register the file"
        )
    import joblib

    path = folder / "model.joblib"
    try:
        joblib.dump(obj, path)
    except Exception as exc:  # pickling raises many unrelated types (PicklingError, TypeError, AttributeError)
        raise InvalidInputError(f"cannot serialize the {kind} object with joblib: {exc}") from exc
    return path, "sklearn"
