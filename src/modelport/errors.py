"""The error hierarchy of modelport.

Every error a user can cause or meet is a ``ModelportError``; each subclass has one meaning, and each transport
(the CLI, the web apps) maps meanings to exit codes or status codes in one table of its own::

    ModelportError
    ├── NotFoundError            a model, version, alias or environment that does not exist
    ├── InvalidInputError        a bad name, reference, file, option or payload
    │   ├── UnsupportedMediaTypeError  a payload in a content type the endpoint does not take
    │   └── MissingDependencyError   an optional extra is needed and not installed
    ├── ConflictError            the operation clashes with the current state (an alias points at a version...)
    ├── IntegrityError           an artifact does not match its recorded sha256 (tampered or truncated)
    ├── ScriptError              a user's entry script failed (import, init() or run())
    ├── UnauthorizedError        a missing or wrong key
    ├── UnavailableError         not ready, or too busy
    ├── ScoringTimeoutError      scoring took longer than allowed
    └── TooLargeError            a payload over the configured limit

Anything else raised inside modelport is a bug or a fault of the environment, and is reported as an internal error.
"""

from __future__ import annotations

from collections.abc import Iterable


class ModelportError(Exception):
    """Base of every error modelport raises on purpose. ``code`` is a stable, machine-readable name."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFoundError(ModelportError):
    code = "not_found"


class InvalidInputError(ModelportError):
    code = "invalid_input"


class UnsupportedMediaTypeError(InvalidInputError):
    code = "unsupported_media_type"


class MissingDependencyError(InvalidInputError):
    code = "missing_dependency"

    def __init__(self, module: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the Python package {module!r}, which is not installed; "
            f"install it with: pip install 'modelport[{extra}]'"
        )


class ConflictError(ModelportError):
    code = "conflict"


class IntegrityError(ModelportError):
    code = "integrity_error"


class ScriptError(ModelportError):
    """An exception inside a user's entry script. ``__cause__`` holds it; transports decide how much to show."""

    code = "script_error"


class UnauthorizedError(ModelportError):
    code = "unauthorized"


class UnavailableError(ModelportError):
    """Not ready yet, or too busy; ``retry_after`` (seconds) says when trying again makes sense."""

    code = "unavailable"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ScoringTimeoutError(ModelportError):
    code = "timeout"


class TooLargeError(ModelportError):
    code = "too_large"


def did_you_mean(candidates: Iterable[str]) -> str:
    """The hint that ends a not-found message: `` Did you mean 'iris'?`` (nothing without candidates)."""
    names = list(candidates)
    if not names:
        return ""
    return " Did you mean " + ", ".join(repr(n) for n in names) + "?"


class ModelNotFoundError(NotFoundError):
    code = "model_not_found"

    def __init__(
        self, name: str, version: int | None = None, alias: str | None = None, suggestions: Iterable[str] = ()
    ) -> None:
        if version is not None:
            message = f"model {name!r} has no version {version}."
        elif alias is not None:
            message = f"model {name!r} has no alias {alias!r}."
        else:
            message = f"no model named {name!r}."
        super().__init__(message + did_you_mean(suggestions))
        self.name, self.version, self.alias = name, version, alias


class EnvironmentNotFoundError(NotFoundError):
    code = "environment_not_found"

    def __init__(self, name: str, version: int | None = None, suggestions: Iterable[str] = ()) -> None:
        if version is not None:
            message = f"environment {name!r} has no version {version}."
        else:
            message = f"no environment named {name!r}."
        super().__init__(message + did_you_mean(suggestions))
        self.name, self.version = name, version
