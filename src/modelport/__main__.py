"""``python -m modelport``: the same as the ``modelport`` command."""

from .cli import entry_point

entry_point()
