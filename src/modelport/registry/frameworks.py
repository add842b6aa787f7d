"""Which framework a model artifact belongs to: detected from files, checked when the user names one."""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidInputError

FRAMEWORKS = ("sklearn", "onnx", "lightgbm", "xgboost", "pytorch", "custom")

_BY_SUFFIX = {
    ".onnx": "onnx",
    ".joblib": "sklearn",
    ".pkl": "sklearn",
    ".pickle": "sklearn",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".lgb": "lightgbm",
    ".lgbm": "lightgbm",
    ".ubj": "xgboost",
    ".xgb": "xgboost",
}


def detect_file(path: Path) -> str | None:
    """The framework of one file, from its suffix and, for ambiguous suffixes, its first bytes."""
    suffix = path.suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if suffix in (".txt", ".json", ".model", ".bst"):
        try:
            with open(path, "rb") as f:
                head = f.read(4096)
        except OSError as exc:
            raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if head.startswith(b"tree\n") or head.startswith(b"tree\r\n"):
            return "lightgbm"
        if b'"learner"' in head:
            return "xgboost"
        if suffix in (".model", ".bst") and head[:1] == b"{":
            return "xgboost"
    return None


def detect(path: Path) -> tuple[str, Path | None]:
    """(framework, model file) for a file or a folder; a folder with no single model file is ``custom``."""
    if path.is_file():
        framework = detect_file(path)
        if framework is None:
            raise InvalidInputError(
                f"cannot tell the framework of {path.name}: pass --framework (one of {', '.join(FRAMEWORKS)})"
            )
        return framework, path
    found = [(f, fw) for f in sorted(path.rglob("*")) if f.is_file() and (fw := detect_file(f))]
    if len(found) == 1:
        return found[0][1], found[0][0]
    return "custom", None


def check(framework: str, path: Path) -> Path | None:
    """Check a framework the user named against the artifact; return the model file (None for ``custom``)."""
    if framework not in FRAMEWORKS:
        raise InvalidInputError(f"unknown framework {framework!r}: expected one of {', '.join(FRAMEWORKS)}")
    if framework == "custom":
        return None
    candidates = [path] if path.is_file() else sorted(f for f in path.rglob("*") if f.is_file())
    matching = [f for f in candidates if detect_file(f) == framework]
    if len(matching) == 1:
        return matching[0]
    if len(matching) > 1:
        names = ", ".join(str(f.relative_to(path)) for f in matching)
        raise InvalidInputError(f"{path.name} holds several {framework} model files ({names}); register one")
    if path.is_file():
        detected = detect_file(path)
        if detected is not None:
            raise InvalidInputError(
                f"{path.name} is a {detected} model file, not {framework}: drop --framework or pass "
                f"--framework {detected}"
            )
        return path  # an unusual suffix: trust the user, the runtime will check when loading
    raise InvalidInputError(f"{path.name} holds no {framework} model file")
