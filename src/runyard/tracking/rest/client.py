"""The HTTP client under the REST adapters: one keep-alive connection pool per store,
the caller's token on every request, and error bodies turned back into Runyard errors."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import httpx

from runyard.errors import BackendError, RunyardError, Unauthorized, error_for_code

#: The API's path prefix on a server.
API_PREFIX = "/api/v1"


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
            BackendError when the server cannot be reached or answers something else.
        """
        try:
            response = self._http.request(
                method, path, json=json, params=params, content=content, headers=headers
            )
        except httpx.HTTPError as exc:
            raise BackendError(
                f"Runyard server {self.base_url} did not answer {method} {path}: {exc}. "
                "Check that it is running and reachable."
            ) from exc
        if response.is_success:
            return response
        raise self._error(response)

    def _error(self, response: httpx.Response) -> RunyardError:
        try:
            error = response.json()["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            return BackendError(
                f"Runyard server {self.base_url} answered {response.status_code} "
                f"{response.reason_phrase} with no Runyard error body."
            )
        if response.status_code == 401 and code == "unauthorized":
            return Unauthorized(message)
        return error_for_code(code)(message)

    def close(self) -> None:
        self._http.close()
