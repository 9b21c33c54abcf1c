"""The RunSearchStore port: the runs of an experiment filtered and ordered by their
attributes, metrics, tags and properties, a page at a time (the web UI's runs table)."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from runyard.entities.search import RunFilter, RunOrder, RunSearchPage


class RunSearchStore(abc.ABC):
    """Run search over the metric summaries a store keeps as metrics are logged.

    Each scalar metric of a run has a summary (``runyard.entities.search.MetricSummary``:
    last value and step, lowest, highest, count), written in the same transaction as the
    values, so a search never reads metric values themselves and sees every committed
    value. Filters and orders are applied by the backend (in SQL, with indexes, on the SQL
    adapter), never by reading every run.
    """

    @abc.abstractmethod
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
        """One page of the experiment's runs that match every filter, in ``order_by``'s
        order (see ``RunOrder``; None: newest first, as ``list_runs_page``).

        ``metrics`` names the metrics whose summaries come back with each run (the
        columns of a runs table). Pass the page's ``next_page_token`` with the same
        experiment, filters and order for the next page; a page continues after the last
        run of the previous one, so no run is returned twice. A run whose sort key changes
        between pages may be missed or seen again (it moved), as in any keyset listing.

        Raises:
            NotFound: the experiment does not exist.
            InvalidArgument: a filter or order that is not one of the typed records of
                ``runyard.entities.search``; ``max_results`` outside 1..1000; a garbled or
                forged ``page_token``, or one given out for another search.
        """
