"""Metrics over the API: a batch is one ``POST /metrics``; reads are one ``GET``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from runyard.entities import MetricPage, MetricRecord
from runyard.entities.validation import check_batch_id
from runyard.rest_client import is_transient
from runyard.tracking.metric_wire import decode_records, encode_records
from runyard.tracking.paging import check_read_limits
from runyard.tracking.rest.base import RestBase, segment

#: Pauses between the tries of one metric write (the metric buffer's outbox takes over
#: after the last one: it keeps the batch on disk and sends it when the server is back).
_RETRY_DELAYS_S = (0.1, 0.3, 0.6, 1.0)


class RestMetrics(RestBase):
    """The MetricStore port over the API."""

    def log_metrics(self, metrics: Sequence[MetricRecord], *, batch_id: str | None = None) -> None:
        """Send the batch; with its ``batch_id`` (a new one when None) as the
        ``Idempotency-Key``, so that sending it again after a lost answer is safe: a
        failure the server may recover from (unreachable, 5xx, 429) is retried a few
        times with backoff (about 2 s in all) before it is raised."""
        if batch_id is not None:
            check_batch_id(batch_id)
        if not metrics:
            return
        key = batch_id or uuid.uuid4().hex
        body = encode_records(metrics)
        for delay in (*_RETRY_DELAYS_S, None):
            try:
                self._call("POST", "metrics", json=body, headers={"Idempotency-Key": key})
                return
            except Exception as exc:
                if delay is None or not is_transient(exc):
                    raise
                time.sleep(delay)

    def get_metrics(self, run_id: str, name: str | None = None) -> list[MetricRecord]:
        params = {} if name is None else {"name": name}
        data = self._call("GET", f"runs/{segment(run_id)}/metrics", params=params)
        return decode_records(data)

    def read_metrics(
        self,
        run_id: str,
        name: str | None = None,
        *,
        after_seq: int = 0,
        max_points: int | None = None,
    ) -> MetricPage:
        check_read_limits(after_seq, max_points)
        params: dict[str, Any] = {"after_seq": after_seq}
        if name is not None:
            params["name"] = name
        if max_points is not None:
            params["max_points"] = max_points
        data = self._call("GET", f"runs/{segment(run_id)}/metrics", params=params)
        return MetricPage(decode_records(data), int(data["last_seq"]))
