"""Run search and chart lines over the API (``POST /runs/search``,
``POST /metrics/series``): one request each, where the port's defaults would read run by
run."""

from __future__ import annotations

from collections.abc import Sequence

from runyard.entities import MetricSeries
from runyard.entities.search import (
    RunFilter,
    RunOrder,
    RunSearchPage,
    check_filters,
    check_metric_names,
    check_order,
    filter_to_json,
    order_to_json,
)
from runyard.tracking.paging import check_many, check_max_results
from runyard.tracking.rest.base import RestBase
from runyard.tracking.wire import from_wire, to_wire


class RestSearch(RestBase):
    """The RunSearchStore port and ``read_series_many`` over the API. Arguments are
    checked here first, so a wrong one raises the same InvalidArgument as on the SQL
    store without a request."""

    def search_runs(
        self,
        experiment_name: str,
        *,
        filters: Sequence[RunFilter] = (),
        order_by: RunOrder | None = None,
        metrics: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunSearchPage:
        checked = check_filters(filters)
        order = check_order(order_by)
        body = {
            "experiment": experiment_name,
            "filters": [to_wire(filter_to_json(item)) for item in checked],  # infinities
            "order_by": None if order is None else order_to_json(order),
            "metrics": list(check_metric_names(metrics)),
            "max_results": check_max_results(max_results),
            "page_token": page_token,
        }
        return from_wire(RunSearchPage, self._call("POST", "runs/search", json=body))

    def read_series_many(
        self, run_ids: Sequence[str], name: str, *, max_points: int | None = None
    ) -> list[MetricSeries]:
        wanted = check_many(run_ids, name, max_points)
        body = {"run_ids": wanted, "name": name, "max_points": max_points}
        data = self._call("POST", "metrics/series", json=body)
        return [from_wire(MetricSeries, item) for item in data["series"]]
