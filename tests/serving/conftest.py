from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.serving.helpers import script_state


@pytest.fixture(autouse=True)
def _restore_script_state() -> Iterator[None]:
    with script_state():
        yield
