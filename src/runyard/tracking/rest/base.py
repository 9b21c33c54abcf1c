"""What every capability of the REST store shares: the API client, the workspace's path
and the wire codec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from runyard.tracking.rest.client import ApiClient
from runyard.tracking.wire import from_wire

T = TypeVar("T")


def segment(value: str | int) -> str:
    """One path segment, quoted so that a name can never change the path."""
    return quote(str(value), safe="")


class RestBase:
    """The shared state of the capability mixins of :class:`RestTrackingStore`."""

    _prefix: str  # "workspaces/NAME"

    def _client(self) -> ApiClient:
        """The open API client (the store opens a new one when it was closed)."""
        raise NotImplementedError

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send a request under the workspace's path; the decoded JSON answer (None for an
        empty one)."""
        response = self._client().request(
            method, f"{self._prefix}/{path}", json=json, params=params, headers=headers
        )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _get(self, tp: type[T], path: str, params: Mapping[str, Any] | None = None) -> T:
        result: T = from_wire(tp, self._call("GET", path, params=params))
        return result

    def _list(self, tp: type[T], path: str, key: str, **params: Any) -> list[T]:
        data = self._call("GET", path, params={k: v for k, v in params.items() if v is not None})
        return [from_wire(tp, item) for item in data[key]]
