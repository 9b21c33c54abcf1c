"""The HTTP client under the REST adapters (``tracking.rest``, ``artifacts.rest``): one
keep-alive connection pool per store, the caller's token on every request, and error
bodies turned back into Runyard errors.

It sits below ``tracking`` and ``artifacts`` (which import none of each other) so both
adapters share it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from runyard.errors import (
    BackendError,
    EnvironmentBuildError,
    MissingDependency,
    NotFound,
    RateLimited,
    RunyardError,
    Unauthorized,
    error_for_code,
)

#: The API's path prefix on a server.
API_PREFIX = "/api/v1"


class ServerUnreachable(BackendError):
    """The server could not be reached, or the connection broke before the answer was
    whole: the request may be sent again (the server's answer, when there is one, is
    raised as the error its body names instead)."""


def is_transient(exc: BaseException) -> bool:
    """Whether a failed request may succeed if sent again later: the server could not be
    reached or its answer was cut (:class:`ServerUnreachable`), it could not reach its
    database or answered a 5xx without a Runyard body (:class:`BackendError`), or it
    asked to slow down (:class:`RateLimited`). Errors about the request itself (not
    found, invalid, forbidden) are not."""
    if isinstance(exc, (EnvironmentBuildError, MissingDependency)):
        return False
    return isinstance(exc, (BackendError, RateLimited))


class ApiClient:
    """Requests to one Runyard server's API.

    Args:
        base_url: the server (``http://host:port``).
        token: the bearer token sent with every request (None: none is sent).
        timeout_s: how long one request may take.
        transport: an httpx transport to use instead of the network (tests may pass
            ``httpx.ASGITransport``-like transports; the server tests use a real server).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"User-Agent": "runyard"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            headers=headers,
            timeout=timeout_s,
            transport=transport,
        )
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; answer the response of a 2xx status.

        Raises:
            The Runyard error the server's body names (NotFound, InvalidState, ...);
            ServerUnreachable (a BackendError) when the server cannot be reached;
            BackendError when it answers something else.
        """
        try:
            response = self._http.request(
                method, path, json=json, params=params, content=content, headers=headers
            )
        except httpx.HTTPError as exc:
            raise self._unreachable(method, path, exc) from exc
        if response.is_success:
            return response
        raise self._error(response)

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[httpx.Response]:
        """Send one request and hold its response open while the body is read in pieces
        (``response.iter_bytes()``): for downloads that need not fit in memory.

        Raises:
            As :meth:`request`; a connection that breaks while the body is read raises
            :class:`ServerUnreachable` too (the caller decides whether to resume).
        """
        try:
            with self._http.stream(method, path, params=params, headers=headers) as response:
                if not response.is_success:
                    response.read()
                    raise self._error(response)
                yield response
        except httpx.HTTPError as exc:
            raise self._unreachable(method, path, exc) from exc

    def _unreachable(self, method: str, path: str, exc: httpx.HTTPError) -> ServerUnreachable:
        return ServerUnreachable(
            f"Runyard server {self.base_url} did not answer {method} {path}: {exc}. "
            "Check that it is running and reachable."
        )

    def _error(self, response: httpx.Response) -> RunyardError:
        try:
            error = response.json()["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            if response.status_code == 404:  # a HEAD's answer has no body
                return NotFound(
                    f"Runyard server {self.base_url} has nothing at {response.request.url.path}."
                )
            return BackendError(
                f"Runyard server {self.base_url} answered {response.status_code} "
                f"{response.reason_phrase} with no Runyard error body."
            )
        if response.status_code == 401 and code == "unauthorized":
            return Unauthorized(message)
        return error_for_code(code)(message)

    def close(self) -> None:
        self._http.close()
