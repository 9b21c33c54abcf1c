"""``RestTrackingStore``: the TrackingStore port over a Runyard server's API."""

from __future__ import annotations

import threading

from runyard.errors import InvalidArgument
from runyard.tracking.rest.base import segment
from runyard.tracking.rest.catalogue import RestCatalogue
from runyard.tracking.rest.client import ApiClient
from runyard.tracking.rest.metrics import RestMetrics
from runyard.tracking.rest.registry import RestRegistry
from runyard.tracking.rest.runs import RestRuns
from runyard.tracking.rest.search import RestSearch
from runyard.tracking.store import TrackingStore


class RestTrackingStore(
    RestRuns, RestSearch, RestMetrics, RestRegistry, RestCatalogue, TrackingStore
):
    """One workspace of a Runyard server, through its REST API (``/api/v1``).

    Behaves as the SQL store of that workspace does (the same contract suite runs on
    both): the server's routes call the SQL store, and errors come back as the same
    Runyard errors with the same messages. One keep-alive connection pool per store;
    safe to share between threads. ``close()`` closes the pool; a closed store opens a new
    one when it is used again, as a SQL store reconnects.

    Args:
        url: the server (``http://host:port``); ``http://host:port/#WORKSPACE`` names
            the workspace too.
        workspace: the workspace's name on the server (required unless the URL's
            fragment names it).
        token: the API token sent with every request (None: none is sent).
        busy_timeout_s: how long one request may wait for the server.

    Raises:
        InvalidArgument: no workspace named, or a URL that is not http(s).
    """

    def __init__(
        self,
        url: str,
        *,
        workspace: str | None = None,
        token: str | None = None,
        busy_timeout_s: float = 30.0,
    ) -> None:
        base, _, fragment = url.partition("#")
        name = workspace or fragment
        if not name:
            raise InvalidArgument(
                f"A server store needs a workspace name: open {base} with workspace=NAME "
                "(a workspace config gives its workspace_name)."
            )
        if not base.lower().startswith(("http://", "https://")):
            raise InvalidArgument(f"Server URL {base!r} must start with http:// or https://.")
        self._url = base.rstrip("/")
        self._workspace = name
        self._prefix = f"workspaces/{segment(name)}"
        self._token = token
        self._timeout_s = busy_timeout_s
        self._api: ApiClient | None = None
        self._lock = threading.Lock()

    def _client(self) -> ApiClient:
        api = self._api
        if api is None:
            with self._lock:
                if self._api is None:
                    self._api = ApiClient(self._url, token=self._token, timeout_s=self._timeout_s)
                api = self._api
        return api

    @property
    def url(self) -> str:
        """The server's URL."""
        return self._url

    @property
    def workspace(self) -> str:
        """The workspace's name on the server."""
        return self._workspace

    def __repr__(self) -> str:  # never the token
        return f"RestTrackingStore({self._url!r}, workspace={self._workspace!r})"

    def close(self) -> None:
        """Close the connection pool (the store opens a new one if used again)."""
        with self._lock:
            api, self._api = self._api, None
        if api is not None:
            api.close()

    def __enter__(self) -> RestTrackingStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
