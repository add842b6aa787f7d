"""``azureml.contrib.services.aml_response.AMLResponse``: what a scoring script returns to control the reply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class AMLResponse:
    """A reply with its own status and headers. With ``json_str=True`` the message is sent as JSON, otherwise as
    it is (text or bytes), like Azure ML's class of the same name."""

    def __init__(
        self,
        message: Any,
        status_code: int,
        response_headers: Mapping[str, str] | None = None,
        json_str: bool = False,
        run_function_failed: bool = False,
    ) -> None:
        self.message = message
        self.status_code = int(status_code)
        self.headers = dict(response_headers or {})
        self.json_str = json_str
        self.run_function_failed = run_function_failed

    def __repr__(self) -> str:
        return f"<AMLResponse {self.status_code}>"
