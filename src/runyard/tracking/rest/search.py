"""Run search through the server (``POST /runs/search``), for :class:`RestTrackingStore`."""

from __future__ import annotations

from collections.abc import Sequence

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
from runyard.tracking.paging import check_max_results
from runyard.tracking.rest.base import RestBase
from runyard.tracking.wire import from_wire, to_wire


class RestSearch(RestBase):
    """``RunSearchStore`` over the API: the server's store filters and orders."""

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
        """See ``RunSearchStore.search_runs`` (bad filters are refused before sending)."""
        checked = check_filters(filters)
        order = check_order(order_by)
        body = {
            "experiment": experiment_name,
            "filters": [filter_to_json(f) for f in checked],
            "order_by": None if order is None else order_to_json(order),
            "metrics": list(check_metric_names(metrics)),
            "max_results": check_max_results(max_results),
            "page_token": page_token,
        }
        # to_wire: infinite thresholds travel as "Infinity" (JSON has no infinities).
        answer = self._call("POST", "runs/search", json=to_wire(body))
        page: RunSearchPage = from_wire(RunSearchPage, answer)
        return page
