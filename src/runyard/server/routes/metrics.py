"""``/workspaces/{workspace}/metrics``: batched metric writes, and a run's metrics read
whole, incrementally (``after_seq``) or downsampled (``max_points``).

The hot path of the API: bodies go through :mod:`runyard.tracking.metric_wire`, a
hand-written codec, rather than the generic one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Response

from runyard.server.auth import Principal, Role, requires
from runyard.server.auth.scope import check_runs_write
from runyard.server.bodies import body_doc, json_body, json_response, no_content
from runyard.server.deps import StoreCalls, store_calls, workspace_store
from runyard.tracking.metric_wire import decode_records, encode_records, run_ids
from runyard.tracking.store import TrackingStore

router = APIRouter(prefix="/workspaces/{workspace}", tags=["metrics"])

#: A batch of at most this many values is written on the event loop when the store allows
#: (:class:`StoreCalls`); a larger one (the SDK's ingest sends thousands) in the thread
#: pool, where the hop's cost is spread over the batch and the loop stays free meanwhile.
INLINE_MAX_POINTS = 100

_BATCH = {
    "series": [{"run_id": "mnist_1700000000_1a2b3c4d", "name": "loss", "kind": "scalar"}],
    "points": [[0, 0.25, 3, 1700000000.5], [0, "NaN", 4, 1700000001.0]],
}


@router.post(
    "/metrics",
    status_code=204,
    openapi_extra=body_doc("A batch, possibly of several runs; all or nothing", _BATCH),
)
async def log_metrics(
    principal: Principal = Depends(requires(Role.CONTRIBUTOR)),
    calls: StoreCalls = Depends(store_calls),
    body: dict[str, Any] = Depends(json_body),
    idempotency_key: str | None = Header(
        default=None,
        alias="Idempotency-Key",
        description="The batch's id, chosen by the client (1-64 letters, digits, _ or -): "
        "a batch sent again with the same id is stored once.",
    ),
) -> Response:
    """Write a batch in one transaction (all of it, or none on an error): ``series``
    (run, name, kind) and ``points`` ``[series index, value, step, logged_at]`` in logging
    order (see :mod:`runyard.tracking.metric_wire`).

    With an ``Idempotency-Key`` header, a batch whose key was stored already is answered
    204 and not stored again: the SDK sends a batch again with its key when the answer to
    the first try was lost (the server killed, the network cut)."""
    points = body.get("points")
    small = isinstance(points, list) and len(points) <= INLINE_MAX_POINTS
    call = calls if small else calls.pooled
    return await call(_log_metrics, principal, calls.store, body, idempotency_key)


def _log_metrics(
    principal: Principal, store: TrackingStore, body: dict[str, Any], batch_id: str | None
) -> Response:
    records = decode_records(body)
    check_runs_write(principal, store, run_ids(records))
    store.log_metrics(records, batch_id=batch_id)
    return no_content()


@router.get("/runs/{run_id}/metrics")
def read_metrics(
    run_id: str,
    principal: Principal = Depends(requires(Role.READER)),
    store: TrackingStore = Depends(workspace_store),
    name: str | None = None,
    after_seq: int | None = None,
    max_points: int | None = None,
) -> Response:
    """The run's metric records in logging order, as a batch (``series`` and ``points``)
    with ``last_seq``.

    Without ``after_seq`` and ``max_points``, every record (``last_seq`` null). With them,
    those logged after sequence number ``after_seq`` (0: from the start), each scalar
    series downsampled to at most ``max_points`` (lowest, highest and last of each
    bucket); pass ``last_seq`` as the next ``after_seq`` to read only what is new.
    """
    if after_seq is None and max_points is None:
        records, last_seq = store.get_metrics(run_id, name), None
    else:
        page = store.read_metrics(run_id, name, after_seq=after_seq or 0, max_points=max_points)
        records, last_seq = page.records, page.last_seq
    return json_response({**encode_records(records), "last_seq": last_seq})
