"""Web services come back after the machine restarts.

A deployed service outlives the process that deployed it, but not a restart of the
machine (or its processes being killed). Whenever a workspace is opened on the machine
that serves its services (``Workspace.from_config``, ``Workspace.get``, every ``runyard``
command), :func:`revive_services` restarts those left stranded: their files are still in
their folder, their supervisor is gone, and the workspace still lists them, not Failed.
Checking costs a folder listing; the store is opened only when there is one to restart.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING

from runyard.entities.service import FAILED, TRANSITIONING
from runyard.errors import NotFound, RunyardError
from runyard.serving.registry import local_backend

if TYPE_CHECKING:
    from runyard.core.workspace import Workspace


def revive_services(workspace: Workspace) -> list[str]:
    """Restart the workspace's stranded services on this machine; their names.

    Never raises for a service that cannot be restarted: it says why on standard error
    and the service stays Unhealthy (``update`` or redeploy it).
    """
    backend = local_backend(workspace.resources)
    names = backend.stranded()
    if not names:
        return []
    store = workspace.resources.store
    revived = []
    for name in names:
        try:
            record = store.get_service(name)
        except NotFound:  # files of a service this workspace no longer has
            continue
        if record.state == FAILED:
            continue
        try:
            status = backend.revive(name)
        except RunyardError as exc:
            print(
                f"Note: web service {name!r} was not running and could not be restarted: "
                f"{exc.message} Update or redeploy it.",
                file=sys.stderr,
            )
            continue
        if status is None:  # someone else got there first
            continue
        store.update_service(dataclasses.replace(record, state=TRANSITIONING, error=None))
        revived.append(name)
        print(
            f"Note: web service {name!r} was not running (the machine restarted, or its "
            f"processes were stopped); restarting it at {status.scoring_uri}.",
            file=sys.stderr,
        )
    return revived
