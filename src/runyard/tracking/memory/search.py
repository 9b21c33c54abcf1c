"""Run search of the in-memory store (see ``RunSearchStore``): the same orders, filters
and page positions as the SQL adapter, computed over the stored runs and summaries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from runyard.entities.search import (
    DisplayNameContains,
    MetricCompare,
    MetricSummary,
    ParentIs,
    PropertyEquals,
    RunAttribute,
    RunFilter,
    RunOrder,
    RunSearchPage,
    SortKind,
    StatusIn,
    TagEquals,
    TagExists,
    ascii_lower,
)
from runyard.tracking import messages
from runyard.tracking.memory.runs import MemoryRuns
from runyard.tracking.memory.state import MemoryState, StoredRun
from runyard.tracking.ports import RunSearchStore
from runyard.tracking.run_params import param_number, params_of
from runyard.tracking.run_search import check_search, summary


class MemorySearch(RunSearchStore):
    """The run search port over a :class:`MemoryState`."""

    _state: MemoryState

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
        query = check_search(experiment_name, filters, order_by, metrics, max_results, page_token)
        state = self._state
        with state.lock:
            if experiment_name not in state.experiments:
                known = sorted(state.experiments)[: messages.LISTED + 1]
                raise messages.experiment_not_found(experiment_name, known)
            found = [
                stored
                for stored in state.runs.values()
                if stored.record.experiment_name == experiment_name
                and all(self._matches(item, stored) for item in query.filters)
            ]
            order, after = query.order, query.after
            positions: list[tuple[list[Any], StoredRun]]
            if order is None:
                found.sort(key=lambda s: -s.key)
                positions = [([s.key], s) for s in found if after is None or s.key < after[0]]
            else:
                positions = self._ordered(order, found, after)
            token = None
            if len(positions) > query.max_results:
                positions = positions[: query.max_results]
                token = query.token(positions[-1][0])
            page = [stored for _, stored in positions]
            summaries: dict[str, dict[str, MetricSummary]] = {}
            for stored in page:
                kept = state.summaries.get(stored.record.run_id, {})
                chosen = {n: summary(n, kept[n]) for n in sorted(query.metrics) if n in kept}
                if chosen:
                    summaries[stored.record.run_id] = chosen
            return RunSearchPage([MemoryRuns._record(s) for s in page], summaries, token)

    def _ordered(
        self, order: RunOrder, found: list[StoredRun], after: list[Any] | None
    ) -> list[tuple[list[Any], StoredRun]]:
        """Every run after ``after`` in ``order``, with its position."""
        groups: dict[int, list[tuple[Any, StoredRun]]] = {}
        lacking = []
        for stored in found:
            value = self._sort_value(order, stored)
            if value is None:
                lacking.append(stored)
            elif order.kind is SortKind.PARAMETER:  # numbers (group 0) before text (1)
                number = param_number(value)
                group = 1 if number is None else 0
                groups.setdefault(group, []).append((value if number is None else number, stored))
            else:
                groups.setdefault(0, []).append((value, stored))
        descending = order.descending
        positions: list[tuple[list[Any], StoredRun]] = []
        for group in sorted(groups):
            present = groups[group]
            present.sort(key=lambda pair: (pair[0], pair[1].key), reverse=descending)
            positions += [([group, value, s.key], s) for value, s in present]
        missing = 2 if order.kind is SortKind.PARAMETER else 1
        lacking.sort(key=lambda s: s.key, reverse=descending)
        positions += [([missing, None, s.key], s) for s in lacking]
        if after is None:
            return positions
        # Positions compare as tuples: groups in order, the lacking one last.
        start = (after[0], after[1], after[2])

        def later(position: list[Any]) -> bool:
            if position[0] != start[0]:
                return bool(position[0] > start[0])
            mine: tuple[Any, ...] = (position[2],)
            theirs: tuple[Any, ...] = (start[2],)
            if position[0] != missing:
                mine, theirs = (position[1], position[2]), (start[1], start[2])
            return mine < theirs if descending else mine > theirs

        return [(position, s) for position, s in positions if later(position)]

    def _sort_value(self, order: RunOrder, stored: StoredRun) -> Any:
        run = stored.record
        if order.kind is SortKind.METRIC:
            kept = self._state.summaries.get(run.run_id, {}).get(order.name)
            return None if kept is None else summary(order.name, kept).value(order.aggregate)
        if order.kind is SortKind.TAG:
            return run.tags.get(order.name)
        if order.kind is SortKind.PROPERTY:
            return run.properties.get(order.name)
        if order.kind is SortKind.PARAMETER:
            return params_of(json.loads(stored.details) if stored.details else {}).get(order.name)
        attribute = RunAttribute(order.name)
        if attribute is RunAttribute.DURATION:
            if run.ended_at is None or run.started_at is None:
                return None
            return run.ended_at - run.started_at
        if attribute is RunAttribute.STATUS:
            return run.status.value
        return getattr(run, attribute.value)

    def _matches(self, item: RunFilter, stored: StoredRun) -> bool:
        run = stored.record
        if isinstance(item, StatusIn):
            return run.status in item.statuses
        if isinstance(item, TagEquals):
            return run.tags.get(item.name) == item.value
        if isinstance(item, TagExists):
            return item.name in run.tags
        if isinstance(item, PropertyEquals):
            return run.properties.get(item.name) == item.value
        if isinstance(item, MetricCompare):
            kept = self._state.summaries.get(run.run_id, {}).get(item.name)
            value = None if kept is None else summary(item.name, kept).value(item.aggregate)
            return value is not None and item.op.holds(value, item.value)
        if isinstance(item, DisplayNameContains):
            return ascii_lower(item.text) in ascii_lower(run.display_name)
        if isinstance(item, ParentIs):
            return run.parent_run_id == item.run_id
        raise AssertionError(f"unchecked filter {item!r}")  # check_filters refuses others
