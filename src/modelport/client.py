"""``ScoringClient``: call a running modelport (or Azure ML) scoring service from Python."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx
import orjson

from .codecs.json import dumps
from .errors import (
    InvalidInputError,
    ModelportError,
    NotFoundError,
    ScoringTimeoutError,
    TooLargeError,
    UnauthorizedError,
    UnavailableError,
)

_BY_STATUS: dict[int, type[ModelportError]] = {
    400: InvalidInputError,
    401: UnauthorizedError,
    403: UnauthorizedError,
    404: NotFoundError,
    413: TooLargeError,
    415: InvalidInputError,
    503: UnavailableError,
    504: ScoringTimeoutError,
}


class ScoringError(ModelportError):
    """The service answered with an error it does not attribute to the request (a 5xx)."""

    code = "scoring_error"

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class ScoringClient:
    """A client for one scoring service.

    >>> client = ScoringClient("http://127.0.0.1:5001")            # doctest: +SKIP
    >>> client.score({"data": [[5.1, 3.5, 1.4, 0.2]]})            # doctest: +SKIP
    [0]
    """

    def __init__(self, url: str, *, key: str | None = None, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        headers = {"authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(timeout=timeout, headers=headers)

    def _score_url(self, model: str | None) -> str:
        if self.url.endswith("/score"):
            return self.url
        return f"{self.url}/models/{model}/score" if model else f"{self.url}/score"

    def score(self, payload: Any, *, model: str | None = None, headers: dict[str, str] | None = None) -> Any:
        """POST ``payload`` (JSON-encoded unless bytes or str) to ``/score`` (or ``/models/{model}/score``)."""
        body = (
            payload.encode() if isinstance(payload, str) else payload if isinstance(payload, bytes) else dumps(payload)
        )
        response = self._request(
            "POST",
            self._score_url(model),
            content=body,
            headers={"content-type": "application/json", **(headers or {})},
        )
        return _decode(response)

    def ready(self) -> bool:
        try:
            return self._http.get(f"{self.url}/health/ready").status_code == 200
        except httpx.HTTPError:
            return False

    def swagger(self, version: int = 2) -> Any:
        return _decode(self._request("GET", f"{self.url}/swagger.json", params={"version": str(version)}))

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise ScoringTimeoutError(f"{url} did not answer in time: {exc}") from exc
        except httpx.HTTPError as exc:
            raise UnavailableError(f"cannot reach {url}: {exc}") from exc
        if response.status_code >= 400:
            raise _error(response)
        return response

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ScoringClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _decode(response: httpx.Response) -> Any:
    if "json" in response.headers.get("content-type", ""):
        return orjson.loads(response.content)
    return response.text


def _error(response: httpx.Response) -> ModelportError:
    try:
        body = orjson.loads(response.content)
        message = body.get("message") or body.get("error") or response.text
    except (orjson.JSONDecodeError, AttributeError):
        message = response.text or response.reason_phrase
    text = f"{response.status_code} from {response.request.url}: {message}"
    cls = _BY_STATUS.get(response.status_code)
    if cls is not None:
        return cls(text)
    return ScoringError(text, response.status_code)
