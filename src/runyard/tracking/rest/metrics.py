"""Metrics over the API: a batch is one ``POST /metrics``; reads are one ``GET``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runyard.entities import MetricPage, MetricRecord
from runyard.tracking.metric_wire import decode_records, encode_records
from runyard.tracking.paging import check_read_limits
from runyard.tracking.rest.base import RestBase, segment


class RestMetrics(RestBase):
    """The MetricStore port over the API."""

    def log_metrics(self, metrics: Sequence[MetricRecord]) -> None:
        if not metrics:
            return
        self._call("POST", "metrics", json={"metrics": encode_records(metrics)})

    def get_metrics(self, run_id: str, name: str | None = None) -> list[MetricRecord]:
        params = {} if name is None else {"name": name}
        data = self._call("GET", f"runs/{segment(run_id)}/metrics", params=params)
        return decode_records(data["metrics"])

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
        return MetricPage(decode_records(data["metrics"]), int(data["last_seq"]))
