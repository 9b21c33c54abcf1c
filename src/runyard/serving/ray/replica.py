"""A web service's replica as a Ray Serve deployment: runs inside the Ray cluster.

Ray Serve imports :func:`build` (the application's ``import_path``) with the service's
folder; each replica loads ``score.py`` from it, runs ``init()``, and answers the routes
of the local scoring server (``GET /``, ``POST /score``, ``GET /swagger.json``) under the
service's route prefix, with the same :class:`ScoringApp` (keys, errors, ``@batch``).

Two ways the files reach a replica:

- the folder is on a path every node shares (the nodes run on the deploying machine):
  the replica reads it in place, checks keys against its ``keys.json`` and writes its
  output to its ``service.log``, as a local service does;
- shipped (``folder`` None): the folder came through Ray's package store as the
  application's ``working_dir``, which Ray unpacks on the replica's node and makes its
  working directory; the key digests come as Serve's ``user_config`` (:meth:`reconfigure`,
  no restart), and the output stays in Ray's log of the replica.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from ray import serve
from starlette.requests import Request
from starlette.responses import Response

from runyard.entities.service import ServiceDefinition
from runyard.serving import layout
from runyard.serving.keys import HeldKeys, KeyCheck
from runyard.serving.server.scoring import ScoringApp, load_entry_script, swagger_document


@serve.deployment(name="scoring", max_ongoing_requests=8)
class ScoringReplica:
    """One replica: ``score.py`` loaded once, requests routed as the local server does."""

    def __init__(self, folder: str | None, auth_enabled: bool = True) -> None:
        shipped = folder is None
        folder = os.getcwd() if folder is None else folder  # Ray's unpacked working_dir
        if not shipped:
            log = os.open(layout.log_file(folder), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.dup2(log, 1)  # score.py's prints and tracebacks reach get_logs()
            os.dup2(log, 2)
            os.close(log)
        with open(layout.definition_file(folder), encoding="utf-8") as fh:
            definition = ServiceDefinition.from_dict(json.load(fh))
        models = layout.models_dir(folder)
        os.environ["RUNYARD_MODEL_DIR"] = models
        os.environ["AZUREML_MODEL_DIR"] = (
            os.path.join(models, definition.models[0].name, str(definition.models[0].version))
            if len(definition.models) == 1
            else models
        )
        os.environ.update(definition.environment_variables)
        source = layout.source_dir(folder)
        os.chdir(source)
        module = load_entry_script(os.path.join(source, *definition.entry_script.split("/")))
        self._held = HeldKeys() if shipped else None
        keys = KeyCheck(layout.keys_file(folder)) if self._held is None else self._held
        self._prefix = f"/{definition.name}"
        self._app = ScoringApp(module.run, keys, swagger_document(definition.name, auth_enabled))
        print(f"Replica of {definition.name} ready (pid {os.getpid()}).", flush=True)
        sys.stdout.flush()

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        """Serve's ``user_config`` changed (or the replica started): a shipped replica's
        key digests (:func:`runyard.serving.keys.key_digests`)."""
        if self._held is not None:
            self._held.update(dict(user_config.get("keys") or {}))

    async def __call__(self, request: Request) -> Response:
        path = request.url.path
        if path.startswith(self._prefix):
            path = path[len(self._prefix) :] or "/"
        headers = {k.lower(): v for k, v in request.headers.items()}
        answer: Any = self._app.respond(request.method, path, headers, await request.body())
        if not hasattr(answer, "status"):
            answer = await answer  # a batched request's future
        return Response(
            answer.body,
            status_code=answer.status,
            media_type=answer.content_type.decode(),
            headers={"X-Runyard-Replica": str(os.getpid())},
        )


def build(args: dict[str, Any]) -> Any:
    """The application Ray Serve deploys: ``args`` has the service's ``folder`` on a shared
    path, or none when it was shipped as the working directory; and ``auth_enabled``."""
    folder = args.get("folder")
    return ScoringReplica.bind(  # type: ignore[attr-defined]
        None if folder is None else str(folder), bool(args.get("auth_enabled", True))
    )
