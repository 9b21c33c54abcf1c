"""``RestTrackingStore``: the TrackingStore port over a Runyard server's API."""

from __future__ import annotations

from runyard.errors import InvalidArgument
from runyard.tracking.rest.base import segment
from runyard.tracking.rest.catalogue import RestCatalogue
from runyard.tracking.rest.client import ApiClient
from runyard.tracking.rest.metrics import RestMetrics
from runyard.tracking.rest.registry import RestRegistry
from runyard.tracking.rest.runs import RestRuns
from runyard.tracking.store import TrackingStore


class RestTrackingStore(RestRuns, RestMetrics, RestRegistry, RestCatalogue, TrackingStore):
    """One workspace of a Runyard server, through its REST API (``/api/v1``).

    Behaves as the SQL store of that workspace does (the same contract suite runs on
    both): the server's routes call the SQL store, and errors come back as the same
    Runyard errors with the same messages. One keep-alive connection pool per store;
    safe to share between threads.

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
        self._api = ApiClient(self._url, token=token, timeout_s=busy_timeout_s)

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
        """Close the connection pool."""
        self._api.close()

    def __enter__(self) -> RestTrackingStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
