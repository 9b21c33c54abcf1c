"""``/api/v1/workspaces/{workspace}/metrics/series``: one metric of several runs as chart
lines (``MetricStore.read_series_many``), the web UI's and the widget's chart call.

The body is columnar, one object per run in the order asked::

    {"series": [{"run_id": "r1", "name": "loss", "steps": [0, 1, null],
                 "values": [0.9, "NaN", 0.4], "times": [1764000000.0, ...]}, ...]}

NaN and +-inf travel as ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (JavaScript's
``Number()`` reads them; ``runyard.tracking.wire.from_wire(MetricSeries, item)`` builds
the record back exactly). The JSON is written here in one ``json.dumps``: FastAPI's
generic encoder visits every value in Python, which would cost more than the read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict

from runyard.entities import MetricSeries
from runyard.server.auth import Principal, Role, requires
from runyard.server.deps import workspace_store
from runyard.tracking.store import TrackingStore
from runyard.tracking.wire import encode_float

router = APIRouter(tags=["metrics"])


class SeriesRead(BaseModel):
    """The body of a chart read: the runs (at most 1,000), the metric, and the most
    values per line (None: all of them; otherwise at least 3, each bucket keeping its
    lowest, highest and last value)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    run_ids: list[str]
    name: str
    max_points: int | None = None


@router.post("/workspaces/{workspace}/metrics/series")
def read_series(
    body: SeriesRead,
    store: TrackingStore = Depends(workspace_store),
    principal: Principal = Depends(requires(Role.READER)),
) -> Response:
    """The lines: ``{"series": [{"run_id", "name", "steps", "values", "times"}, ...]}``."""
    found = store.read_series_many(body.run_ids, body.name, max_points=body.max_points)
    return Response(series_body(found), media_type="application/json")


def series_body(lines: Sequence[MetricSeries]) -> str:
    """The JSON text of the response holding ``lines``."""
    columns = {"series": [_columns(line) for line in lines]}
    return json.dumps(columns, allow_nan=False, separators=(",", ":"))


def _columns(line: MetricSeries) -> dict[str, object]:
    return {
        "run_id": line.run_id,
        "name": line.name,
        "steps": line.steps,
        "values": _floats(line.values),
        "times": _floats(line.times),
    }


def _floats(column: Sequence[float]) -> Sequence[float | str]:
    """``column`` as JSON carries it: non-finite values by name."""
    if all(map(math.isfinite, column)):
        return column
    return [encode_float(value) for value in column]
