"""Helpers of the scoring app tests: an app around a service, driven in-process, and the one error shape."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from starlette.testclient import TestClient

from modelport import Workspace
from modelport.serving import InferenceService, ServingSettings
from modelport.web import create_scoring_app

ERROR_KEYS = {"error", "message", "code"}


@contextmanager
def serve(ws: Workspace, refs: Sequence[str], *, load: bool = True, **settings: Any) -> Iterator[TestClient]:
    """A client of the scoring app serving ``refs``: loaded first, or (``load=False``) loading in the background
    once the app starts. The service is closed afterwards."""
    service = InferenceService(ws, refs, ServingSettings(**settings))
    try:
        if load:
            service.load()
        with TestClient(create_scoring_app(service, load_on_startup=not load)) as client:
            yield client
    finally:
        service.close()


def error_of(response: Any, status: int) -> str:
    """The message of an error response, after checking its status and the one JSON shape every error has."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["error"] == body["message"]
    assert isinstance(body["code"], str) and body["code"]
    message: str = body["message"]
    return message
