"""WorkspaceResources: what a workspace is made of below the SDK.

One object owns a workspace's config, its settings, its TrackingStore, its ArtifactStore
and its metric buffer, opens each on first use and closes them with :meth:`close`. The
SDK's ``Workspace`` wraps one; the node side (the executor), compute backends and the CLI
take one directly, so nothing below the SDK front imports the SDK.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from runyard.config import WorkspaceConfig
from runyard.errors import InvalidArgument
from runyard.settings import Settings

if TYPE_CHECKING:
    from runyard.artifacts.store import ArtifactStore
    from runyard.tracking.buffer import MetricBuffer
    from runyard.tracking.heartbeat import Heartbeat
    from runyard.tracking.outbox import MetricOutbox
    from runyard.tracking.store import TrackingStore

#: The environment variable through which a workspace's config reaches a run's processes.
ENV_WORKSPACE = "RUNYARD_WORKSPACE"
#: The environment variable that names the run a script runs in.
ENV_RUN_ID = "RUNYARD_RUN_ID"
#: The environment variable that names the file where a submitted run's script keeps the
#: metric values the store would not take (the executor stores them after the script).
ENV_METRIC_SPOOL = "RUNYARD_METRIC_SPOOL"
#: The environment variable holding the API token of a server workspace's run processes.
ENV_TOKEN = "RUNYARD_TOKEN"

#: What a run's processes get to reach the workspace: the environment for a run id.
NodeAccess = Callable[[str], dict[str, str]]


class WorkspaceResources:
    """A workspace's stores, opened on first use.

    Args:
        config: where the workspace keeps things.
        settings: the settings read at the edge (default: from the environment).
        metric_spool: a file where the metric buffer keeps the values the store would not
            take (a submitted run's script: its executor stores them later); None: such
            values are reported and lost.
        node_access: how a run's processes (executor, script, controller) reach the
            workspace: the environment variables for a run id. None (embedded workspaces):
            ``RUNYARD_WORKSPACE`` = this config. A team server sets it to hand its
            executors the server's URL and a token scoped to the run, never its own
            config (database URL, storage paths).
    """

    def __init__(
        self,
        config: WorkspaceConfig,
        settings: Settings | None = None,
        *,
        metric_spool: str | None = None,
        node_access: NodeAccess | None = None,
    ) -> None:
        self.config = config
        self.settings = settings if settings is not None else Settings.from_env()
        self.metric_spool = metric_spool
        self.node_access = node_access
        self._store: TrackingStore | None = None
        self._artifacts: ArtifactStore | None = None
        self._buffer: MetricBuffer | None = None
        self._heartbeats: dict[str, Heartbeat] = {}
        # Datastore name -> (the record's location and options, its open store).
        self._datastores: dict[str, tuple[str, ArtifactStore]] = {}
        self._used: set[object] = set()
        self._lock = threading.Lock()

    @classmethod
    def from_json(
        cls, text: str, settings: Settings | None = None, *, metric_spool: str | None = None
    ) -> WorkspaceResources:
        """The resources of the workspace whose config is ``text`` (as a run's processes
        receive it in ``RUNYARD_WORKSPACE``); ``metric_spool`` as in the constructor.

        Raises:
            InvalidArgument: ``text`` is not a workspace config.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidArgument(
                f"Workspace config in {ENV_WORKSPACE} is not JSON: {exc}"
            ) from exc
        config = WorkspaceConfig.from_dict(data, source=ENV_WORKSPACE)
        return cls(config, settings, metric_spool=metric_spool)

    @property
    def name(self) -> str:
        return self.config.workspace_name

    def node_env(self, run_id: str) -> dict[str, str]:
        """The environment variables through which run ``run_id``'s processes reach this
        workspace (see ``node_access``)."""
        if self.node_access is not None:
            return self.node_access(run_id)
        return {ENV_WORKSPACE: self.config.to_json()}

    @property
    def required_extras(self) -> tuple[str, ...]:
        """Runyard's extras a process needs to reach this workspace's stores (``postgres``
        for a PostgreSQL database, ``s3``/``azure``/``gcs`` for an object store): what a
        run's built environment gets besides Runyard's base dependencies."""
        from runyard.artifacts.store import required_extra as artifact_extra
        from runyard.tracking import required_extra as tracking_extra

        needed = (
            tracking_extra(self.config.resolved_tracking_uri),
            artifact_extra(self.config.resolved_artifact_uri),
        )
        return tuple(sorted({extra for extra in needed if extra}))

    @property
    def token(self) -> str | None:
        """The API token for a server workspace (``RUNYARD_TOKEN``, else the one
        ``runyard login`` saved for the server); None for other workspaces."""
        if not self.config.server:
            return None
        from runyard.credentials import find_token

        return find_token(self.config.server, self.settings)

    @property
    def store(self) -> TrackingStore:
        """The run history, model registry and catalogue."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from runyard.tracking import open_tracking_store

                    self._store = open_tracking_store(
                        self.config.resolved_tracking_uri,
                        busy_timeout_s=self.settings.sqlite_busy_timeout_s,
                        workspace=self.config.workspace_name,
                        token=self.token,
                    )
        return self._store

    @property
    def artifacts(self) -> ArtifactStore:
        """Run files, logs, snapshots, models and the default datastore's files."""
        if self._artifacts is None:
            with self._lock:
                if self._artifacts is None and self.config.server:
                    # Through the server: this process needs no storage credentials.
                    from runyard.artifacts.rest import RestArtifactStore

                    self._artifacts = RestArtifactStore(
                        self.config.server, self.config.workspace_name, token=self.token
                    )
                elif self._artifacts is None:
                    from runyard.artifacts.store import FsspecArtifactStore

                    self._artifacts = FsspecArtifactStore(
                        self.config.resolved_artifact_uri, self.config.storage_options
                    )
        return self._artifacts

    @property
    def metric_buffer(self) -> MetricBuffer:
        """The buffer ``run.log`` appends to; a background thread writes it to the store
        (through the outbox on a server workspace: nothing is lost while the server is
        away)."""
        if self._buffer is None:
            with self._lock:
                if self._buffer is None:
                    from runyard.tracking.buffer import MetricBuffer

                    self._buffer = MetricBuffer(
                        lambda batch: self.store.log_metrics(batch),
                        spool=self.metric_spool,
                        outbox=self._outbox(),
                        flush_timeout_s=self.settings.flush_timeout_s,
                    )
        if self._buffer.closed:  # used again after close(): runs may hold its append
            self._buffer.reopen()
        return self._buffer

    def _outbox(self) -> MetricOutbox | None:
        """A server workspace's metric outbox (values wait on disk while the server is
        away, see :mod:`runyard.tracking.outbox`); None for other workspaces."""
        server = self.config.server
        if not server:
            return None
        from runyard.tracking.outbox import MetricOutbox, outbox_folder

        name = self.config.workspace_name
        return MetricOutbox(
            lambda batch, batch_id: self.store.log_metrics(batch, batch_id=batch_id),
            outbox_folder(self.settings.outbox_dir, server, name),
            target=f"server {server} (workspace {name!r})",
        )

    def first_use(self, key: object) -> bool:
        """True the first time ``key`` is asked about on these resources, then False: for
        work done once per process and workspace (sweeping an experiment's runs)."""
        with self._lock:
            if key in self._used:
                return False
            self._used.add(key)
            return True

    def start_heartbeat(self, run_id: str) -> Heartbeat:
        """Beat for ``run_id`` from this process until the run ends or these resources
        close (runs started with ``start_logging()``)."""
        from runyard.tracking.heartbeat import Heartbeat

        heartbeat = Heartbeat(self.store, run_id, self.settings.heartbeat_s)
        with self._lock:
            self._heartbeats = {k: h for k, h in self._heartbeats.items() if h.alive}
            self._heartbeats[run_id] = heartbeat
        return heartbeat.start()

    def stop_heartbeat(self, run_id: str) -> None:
        """Stop beating for ``run_id`` (it ended)."""
        with self._lock:
            heartbeat = self._heartbeats.pop(run_id, None)
        if heartbeat is not None:
            heartbeat.stop()

    def flush(self) -> None:
        """Write every buffered metric now."""
        if self._buffer is not None:
            self._buffer.flush()

    def datastore_files(self, name: str) -> ArtifactStore:
        """The files of registered datastore ``name``, kept open while its record stays
        the same (a team server serves them to clients and nodes that hold no storage
        credentials).

        Raises:
            NotFound: no datastore of that name.
        """
        from runyard.artifacts.datastores import datastore_artifact_store

        record = self.store.get_datastore(name)
        key = json.dumps([record.url, record.options], sort_keys=True, default=str)
        with self._lock:
            held = self._datastores.get(name)
            if held is not None and held[0] == key:
                return held[1]
            store = datastore_artifact_store(record, self.config, self.token)
            self._datastores[name] = (key, store)
        if held is not None:
            held[1].close()
        return store

    def close(self) -> None:
        """Stop heartbeats, flush buffered metrics and release connections and clients
        (idempotent)."""
        with self._lock:
            datastores, self._datastores = list(self._datastores.values()), {}
        for _, files in datastores:
            files.close()
        with self._lock:
            heartbeats, self._heartbeats = list(self._heartbeats.values()), {}
        for heartbeat in heartbeats:
            heartbeat.stop(wait=True)
        if self._buffer is not None:
            # Kept (closed), not dropped: runs cache its append method.
            self._buffer.close()
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._artifacts is not None:
            self._artifacts.close()
            self._artifacts = None

    def __enter__(self) -> WorkspaceResources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
