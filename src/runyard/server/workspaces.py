"""The workspaces one server serves: the one it was started with, and those created
through the API (embedded workspaces in the server's home folder).

Each workspace's stores are opened on first use and kept open until the server stops.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from runyard.config import WORKSPACE_MARKER, WorkspaceConfig, load_workspace_config
from runyard.entities.validation import check_entity_name
from runyard.errors import AlreadyExists, NotFound
from runyard.resources import NodeAccess, WorkspaceResources
from runyard.server.deps import StoreCalls
from runyard.settings import Settings


class WorkspaceRegistry:
    """Names to workspaces for one server.

    Args:
        served: the workspace given at start (None: only the home folder's).
        home: the folder where workspaces created through the API live (``NAME/``).
        settings: passed to every workspace's resources.
        node_access_for: a workspace's name -> how the runs the server starts reach it
            (``WorkspaceResources.node_access``); None: they get its config.
    """

    def __init__(
        self,
        served: WorkspaceConfig | None,
        home: str,
        settings: Settings,
        *,
        node_access_for: Callable[[str], NodeAccess] | None = None,
    ) -> None:
        self._served = served
        self._home = os.path.abspath(home)
        self._settings = settings
        self._node_access_for = node_access_for
        self._open: dict[str, WorkspaceResources] = {}
        self._calls: dict[str, StoreCalls] = {}
        self._lock = threading.Lock()

    def _folder(self, name: str) -> str:
        return os.path.join(self._home, name)

    def names(self) -> list[str]:
        """Every workspace this server serves, sorted."""
        found = set()
        if self._served is not None:
            found.add(self._served.workspace_name)
        if os.path.isdir(self._home):
            for entry in os.listdir(self._home):
                if os.path.isfile(os.path.join(self._home, entry, WORKSPACE_MARKER)):
                    found.add(entry)
        return sorted(found)

    def open_names(self) -> list[str]:
        """The workspaces opened so far (the served one from the start), sorted."""
        with self._lock:
            return sorted(self._open)

    def config(self, name: str) -> WorkspaceConfig:
        """The config of a served workspace.

        Raises:
            NotFound: the server serves no workspace of that name.
        """
        if self._served is not None and name == self._served.workspace_name:
            return self._served
        folder = self._folder(name)
        if check_name_safely(name) and os.path.isfile(os.path.join(folder, WORKSPACE_MARKER)):
            return load_workspace_config(folder)
        raise NotFound(
            f"Workspace {name!r} is not served here. Workspaces: "
            f"{', '.join(self.names()) or '(none)'}."
        )

    def get(self, name: str) -> WorkspaceResources:
        """The open resources of workspace ``name`` (opened on first use)."""
        with self._lock:
            resources = self._open.get(name)
        if resources is not None:
            return resources
        config = self.config(name)
        with self._lock:
            if name not in self._open:
                access = self._node_access_for(name) if self._node_access_for else None
                self._open[name] = WorkspaceResources(config, self._settings, node_access=access)
            return self._open[name]

    def calls(self, name: str) -> StoreCalls:
        """Workspace ``name``'s store and how the hot routes call it (see
        :class:`StoreCalls`; opened on first use)."""
        calls = self._calls.get(name)
        if calls is None:
            resources = self.get(name)
            sqlite = resources.config.resolved_tracking_uri.startswith("sqlite")
            calls = self._calls[name] = StoreCalls(resources.store, inline=sqlite)
        return calls

    def create(self, name: str) -> WorkspaceConfig:
        """Create an embedded workspace in the server's home folder.

        Raises:
            InvalidArgument: a name that is not a valid workspace name.
            AlreadyExists: a workspace of that name is served.
        """
        from runyard.core.workspace import Workspace

        check_entity_name("workspace", name)
        if name in self.names():
            raise AlreadyExists(f"Workspace {name!r} exists already on this server.")
        os.makedirs(self._home, exist_ok=True)
        Workspace.create(name, path=self._folder(name), exist_ok=False).close()
        return self.config(name)

    def close(self) -> None:
        with self._lock:
            opened, self._open = list(self._open.values()), {}
            self._calls = {}
        for resources in opened:
            resources.close()


def check_name_safely(name: str) -> bool:
    """True when ``name`` is a valid workspace name (so it is safe as a folder name)."""
    try:
        check_entity_name("workspace", name)
    except ValueError:
        return False
    return True
