"""Where a run's page is in the web UI of a team server."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from runyard.config import WorkspaceConfig


def run_page_url(config: WorkspaceConfig, run_id: str) -> str | None:
    """The address of run ``run_id``'s page on its workspace's server
    (``<server>/w/<workspace>/runs/<run id>``), or None for an embedded
    workspace, which has no server to show it."""
    if not config.server:
        return None
    workspace = quote(config.workspace_name, safe="")
    return f"{config.server.rstrip('/')}/w/{workspace}/runs/{quote(run_id, safe='')}"
