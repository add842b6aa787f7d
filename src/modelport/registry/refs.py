"""Names and references: ``NAME`` (latest version), ``NAME:VERSION`` and ``NAME@ALIAS``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import InvalidInputError

# Matched with fullmatch: ``$`` would also accept a name followed by a newline.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,99}")
RESERVED_ALIASES = frozenset({"latest"})
MAX_VERSION = 2**31 - 1  # versions are 32-bit integers in the database


def validate_name(name: str, kind: str = "model") -> str:
    if not _NAME.fullmatch(name):
        raise InvalidInputError(
            f"invalid {kind} name {name!r}: use 1-200 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )
    return name


def validate_alias(alias: str) -> str:
    if not _ALIAS.fullmatch(alias):
        raise InvalidInputError(
            f"invalid alias {alias!r}: use letters, digits, '-' or '_', starting with a letter (at most 100)"
        )
    if alias in RESERVED_ALIASES:
        raise InvalidInputError(f"alias {alias!r} is reserved: NAME@{alias} always means the newest version")
    return alias


@dataclass(frozen=True)
class Reference:
    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}:{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name


def parse_reference(text: str, kind: str = "model") -> Reference:
    """Parse ``NAME``, ``NAME:VERSION`` or ``NAME@ALIAS`` (``NAME@latest`` is ``NAME``)."""
    text = text.strip()
    if "@" in text:
        name, _, alias = text.partition("@")
        validate_name(name, kind)
        if alias == "latest":
            return Reference(name)
        if not _ALIAS.fullmatch(alias):
            raise InvalidInputError(f"invalid reference {text!r}: {alias!r} is not a valid alias")
        return Reference(name, alias=alias)
    if ":" in text:
        name, _, version = text.partition(":")
        validate_name(name, kind)
        if not (version.isascii() and version.isdigit()) or not 1 <= int(version) <= MAX_VERSION:
            raise InvalidInputError(
                f"invalid reference {text!r}: the version after ':' must be a whole number from 1 to {MAX_VERSION}"
            )
        return Reference(name, version=int(version))
    if not _NAME.fullmatch(text):
        raise InvalidInputError(
            f"invalid reference {text!r}: expected NAME, NAME:VERSION or NAME@ALIAS, where a name is letters, "
            "digits, '-', '_' or '.'"
        )
    return Reference(text)


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The existing names nearest to ``name``, for 'did you mean' hints."""
    pool = list(candidates)
    found = difflib.get_close_matches(name, pool, n=n, cutoff=0.5)
    lowered = name.lower()
    for candidate in pool:  # a prefix or case difference is a strong hint that difflib can rank low
        if candidate not in found and (candidate.lower().startswith(lowered) or lowered in candidate.lower()):
            found.append(candidate)
    return found[:n]
