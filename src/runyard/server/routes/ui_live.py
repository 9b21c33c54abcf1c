"""Live updates for the web UI: server-sent event streams of a run and of an experiment's
runs. Read-only (the reader role).

A stream checks what it follows (see :mod:`runyard.server.ui.live`) every
``POLL_S`` seconds and sends an event when a part of it changed; the page then reloads that
part. Run streams send ``run`` (the record changed: status, details, tags...), ``metrics``
(a value was logged) and ``logs`` (a log grew or appeared) and end with ``end`` a moment
after the run has ended (its last log lines often come just after its final status);
experiment streams send ``runs`` (a run was created, or an unfinished run changed status).

The browser reads a stream with ``fetch`` (not ``EventSource``), so the token travels in
the Authorization header as on every other route and never in a URL. The caller's token is
checked again every few seconds: a revoked token or a lowered role ends the stream with an
``error`` event. A stream also ends after ``MAX_STREAM_S`` (the page reconnects) and as soon
as the server is asked to stop, so a graceful shutdown never waits on one.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from runyard.artifacts.store import ArtifactStore
from runyard.errors import RunyardError
from runyard.server.auth import Principal, Role, requires
from runyard.server.deps import workspace_artifacts, workspace_store
from runyard.server.ui.live import (
    ExperimentState,
    LiveStreams,
    RunState,
    experiment_state,
    run_state,
)
from runyard.tracking.store import TrackingStore

router = APIRouter(prefix="/workspaces/{workspace}/ui", tags=["ui"])

#: How often a stream looks for changes: a logged value reaches the page within about
#: this plus one read.
POLL_S = 0.4
#: How often the caller's token is checked again during a stream.
REAUTH_S = 5.0
#: The longest a stream stays open; the page then opens a new one.
MAX_STREAM_S = 300.0
#: A comment line sent when nothing changed for this long, so proxies keep the stream.
KEEPALIVE_S = 15.0
#: How long a run's stream goes on after the run ended: the last log lines and values
#: are often written just after the final status.
END_GRACE_S = 2.0

_READER = requires(Role.READER)
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _run_changes(old: RunState | None, new: RunState) -> list[bytes]:
    out = []
    if old is None or (old.record, old.status) != (new.record, new.status):
        out.append(_event("run", {"status": new.status, "ended": new.ended}))
    if old is None or old.metrics_seq != new.metrics_seq:
        out.append(_event("metrics", {"seq": new.metrics_seq}))
    if old is None or old.logs != new.logs:
        out.append(_event("logs", {"sizes": new.logs}))
    return out


def _runs_changes(old: ExperimentState | None, new: ExperimentState) -> list[bytes]:
    if old is not None and old == new:
        return []
    changed = sorted(
        {r for r, s in new.active.items() if (old.active.get(r) if old else None) != s}
        | ({r for r in old.active if r not in new.active} if old else set())
    )
    return [_event("runs", {"run_count": new.run_count, "changed": changed})]


async def _stream(
    request: Request,
    read: Callable[[], Any],
    changes: Callable[[Any, Any], list[bytes]],
    finished: Callable[[Any], bool],
) -> AsyncIterator[bytes]:
    live: LiveStreams = request.app.state.live
    live.opened()
    try:
        started = checked = sent = time.monotonic()
        state = None
        done_since: float | None = None
        yield b"retry: 1000\n\n"  # the reconnect delay, for clients that honour it
        while not live.closing:
            now = time.monotonic()
            if now - checked >= REAUTH_S:
                checked = now
                try:
                    await _READER(request)
                except RunyardError as exc:
                    yield _event("error", {"code": exc.code, "message": str(exc)})
                    return
            try:
                new = await run_in_threadpool(read)
            except RunyardError as exc:  # removed meanwhile, workspace closed...
                yield _event("error", {"code": exc.code, "message": str(exc)})
                return
            events = changes(state, new)
            state = new
            for event in events:
                yield event
            if events:
                sent = now
            if finished(new):
                done_since = now if done_since is None else done_since
                if now - done_since >= END_GRACE_S:
                    yield _event("end", {})
                    return
            if now - started >= MAX_STREAM_S:
                return
            if now - sent >= KEEPALIVE_S:
                sent = now
                yield b": keep-alive\n\n"
            await asyncio.sleep(POLL_S)
    finally:
        live.finished()


@router.get("/runs/{run_id}/events")
async def run_events(
    run_id: str,
    request: Request,
    store: TrackingStore = Depends(workspace_store),
    artifacts: ArtifactStore = Depends(workspace_artifacts),
    principal: Principal = Depends(_READER),
) -> StreamingResponse:
    """A ``text/event-stream`` of the run's changes: ``run``, ``metrics`` and ``logs``
    events (each part once at the start), ``end`` when the run has ended."""
    await run_in_threadpool(store.get_run, run_id)  # a 404 now, not an event later
    return StreamingResponse(
        _stream(
            request,
            lambda: run_state(store, artifacts, run_id),
            _run_changes,
            lambda state: state.ended,
        ),
        media_type="text/event-stream",
        headers=_HEADERS,
    )


@router.get("/experiments/{experiment}/events")
async def experiment_events(
    experiment: str,
    request: Request,
    store: TrackingStore = Depends(workspace_store),
    principal: Principal = Depends(_READER),
) -> StreamingResponse:
    """A ``text/event-stream`` of the experiment's runs table: a ``runs`` event (with the
    ids of the runs whose status changed) when a run was created or changed status."""
    await run_in_threadpool(experiment_state, store, experiment)  # a 404 now
    return StreamingResponse(
        _stream(
            request,
            lambda: experiment_state(store, experiment),
            _runs_changes,
            lambda state: False,
        ),
        media_type="text/event-stream",
        headers=_HEADERS,
    )
