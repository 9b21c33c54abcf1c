"""``/api/v1/workspaces/{workspace}/datastores/{datastore}/files``: a registered datastore's
files through the server, so that clients and the nodes of a team server's runs read and
write them with their API token and no storage credentials.

The same routes, roles and guarantees as the workspace's own files
(:mod:`runyard.server.routes.artifacts`: listing with ``?detail=true`` for sizes and
change tags, ranged downloads, whole-file ``PUT``, resumable uploads, append, copy and
delete), mounted under the datastore: the routes' store is the datastore's
(:func:`runyard.server.deps.workspace_artifacts` reads the ``datastore`` path parameter).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute

from runyard.server.routes import artifacts, uploads

PREFIX = "/workspaces/{workspace}/datastores/{datastore}/files"


def datastore_files_router() -> APIRouter:
    """The artifact routes again, under a datastore (one router, built per app)."""
    router = APIRouter(prefix=PREFIX, tags=["datastores"])
    for source in (artifacts.router, uploads.router):
        for route in source.routes:
            if not isinstance(route, APIRoute):
                continue
            router.add_api_route(
                route.path.removeprefix(source.prefix),
                route.endpoint,
                methods=sorted(route.methods or ()),
                status_code=route.status_code,
                response_class=route.response_class,
                name=f"datastore_{route.name}",
                summary=route.summary,
                description=route.description,
                openapi_extra=route.openapi_extra,
            )
    return router
