"""``azureml.contrib.services.aml_request``: ``@rawhttp`` and the request object such a ``run()`` receives.

As in Azure ML, ``rawhttp`` returns ``run`` unchanged and sets a module flag, which the server reads after the
script is imported. ``AMLRequest`` offers what scripts use of Azure's (Flask's) request: ``method``, ``headers``,
``args``, ``get_data()``, ``data``, ``json``/``get_json()``, ``form``, ``files``, ``path``, ``full_path``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

F = TypeVar("F", bound=Callable[..., Any])

_rawHttpRequested = False


def rawhttp(func: F) -> F:
    """Mark ``run`` as taking the raw request object instead of its body."""
    global _rawHttpRequested
    _rawHttpRequested = True
    return func


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only headers."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._items = list(items)
        self._lookup = {k.lower(): v for k, v in self._items}

    def __getitem__(self, key: str) -> str:
        return self._lookup[key.lower()]

    def __iter__(self) -> Any:
        return iter(k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def get_all(self, key: str) -> list[str]:
        return [v for k, v in self._items if k.lower() == key.lower()]


class Args(dict[str, str]):
    """Query parameters: ``args["k"]`` is the first value, ``args.getlist("k")`` all of them."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__()
        self._pairs = pairs
        for key, value in pairs:
            self.setdefault(key, value)

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self._pairs if k == key]


@dataclass
class UploadedFile:
    """A file of a multipart request, like Werkzeug's ``FileStorage``."""

    filename: str | None
    content_type: str | None
    content: bytes
    name: str = ""

    def read(self) -> bytes:
        return self.content

    def save(self, destination: str) -> None:
        with open(destination, "wb") as f:
            f.write(self.content)


class AMLRequest:
    """The request a ``@rawhttp`` ``run()`` receives."""

    def __init__(
        self,
        method: str,
        path: str,
        query_string: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        form: Mapping[str, str] | None = None,
        files: Mapping[str, UploadedFile] | None = None,
    ) -> None:
        self.method = method.upper()
        self.path = path
        self.query_string = query_string.encode()
        self.full_path = f"{path}?{query_string}"
        self.headers = Headers(headers)
        self.args = Args(parse_qsl(query_string, keep_blank_values=True))
        self.data = body
        self.form = dict(form or {})
        self.files = dict(files or {})

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def mimetype(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def is_json(self) -> bool:
        mimetype = self.mimetype
        return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))

    def get_data(self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False) -> Any:
        """The body: bytes, or text with ``as_text=True`` (Flask's signature)."""
        return self.data.decode("utf-8", errors="replace") if as_text else self.data

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if not (force or self.is_json):
            if silent:
                return None
            raise ValueError("the request's content type is not application/json")
        try:
            return json.loads(self.data)
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self) -> Any:
        return self.get_json(silent=True)
