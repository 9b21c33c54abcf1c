"""Run search in SQL (see ``RunSearchStore``): keyset pages over the runs, the metric
summaries, the parameters and the tags and properties of one experiment.

An ordered search is two queries at most (three for a parameter): the runs that have the
sort key, ordered by (value, row key) and continued with a row-value comparison, which an
index range scan answers (``run_metric_summaries`` is indexed by (experiment, name, value,
run) for each of last, min and max; ``run_params`` by (experiment, name, number, run));
then, once those are exhausted, the runs that lack it, by row key. A parameter order has
two groups before the runs that lack it: the numbers, then the text values. Text orders
use the C collation on PostgreSQL so that both databases order by code point, as Python
does.
"""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa

from runyard.entities import RunStatus
from runyard.entities.search import (
    DisplayNameContains,
    MetricAggregate,
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
from runyard.tracking.run_search import Search
from runyard.tracking.sql import experiments
from runyard.tracking.sql import runs as runs_module
from runyard.tracking.sql.tables import run_metric_summaries as summaries
from runyard.tracking.sql.tables import run_params, run_properties, run_tags, runs

_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
}


def search(conn: sa.Connection, query: Search) -> RunSearchPage:
    """One page of ``query`` (checked by ``run_search.check_search``)."""
    experiment_id = experiments.get(conn, query.experiment_name).experiment_id
    postgres = conn.dialect.name == "postgresql"
    conditions = [runs.c.experiment_id == experiment_id]
    conditions += [_condition(item, postgres) for item in query.filters]
    limit = query.max_results + 1
    order = query.order
    if order is None:
        keyed = sa.select(runs.c.id.label("key")).where(*conditions)
        if query.after is not None:
            keyed = keyed.where(runs.c.id < query.after[0])
        rows = conn.execute(keyed.order_by(runs.c.id.desc()).limit(limit)).all()
        positions = [[row.key] for row in rows]
    else:
        positions = _ordered(conn, order, experiment_id, conditions, query.after, limit, postgres)
    token = None
    if len(positions) > query.max_results:
        positions = positions[: query.max_results]
        token = query.token(positions[-1])
    keys = [position[-1] for position in positions]
    records = runs_module.by_keys(conn, keys)
    metrics = _summaries(
        conn, {key: r.run_id for key, r in zip(keys, records, strict=True)}, query.metrics
    )
    return RunSearchPage(records, metrics, token)


def _ordered(
    conn: sa.Connection,
    order: RunOrder,
    experiment_id: int,
    conditions: list[sa.ColumnElement[bool]],
    after: list[Any] | None,
    limit: int,
    postgres: bool,
) -> list[list[Any]]:
    """Positions ``[group, value, key]`` of the next ``limit`` runs in ``order``."""
    presents, lacking = _sort_key(order, experiment_id, postgres)
    positions: list[list[Any]] = []
    first = 0 if after is None else after[0]
    for group, present in enumerate(presents):
        if group < first or len(positions) >= limit:
            continue
        key, value = present.selected_columns.key, present.selected_columns.value
        query = present.where(*conditions)
        if after is not None and group == after[0]:
            position = sa.tuple_(value, key)
            bound = sa.tuple_(sa.literal(after[1]), sa.literal(after[2]))
            query = query.where(position < bound if order.descending else position > bound)
        if order.descending:
            query = query.order_by(value.desc(), key.desc())
        else:
            query = query.order_by(value, key)
        rows = conn.execute(query.limit(limit - len(positions))).all()
        positions += [[group, _plain(row.value), row.key] for row in rows]
    missing = len(presents)  # the group of the runs that lack the key
    if len(positions) < limit and lacking is not None:
        query = sa.select(runs.c.id.label("key")).where(lacking, *conditions)
        if after is not None and after[0] == missing:
            query = query.where(runs.c.id < after[2] if order.descending else runs.c.id > after[2])
        query = query.order_by(runs.c.id.desc() if order.descending else runs.c.id.asc())
        rows = conn.execute(query.limit(limit - len(positions))).all()
        positions += [[missing, None, row.key] for row in rows]
    return positions


def _sort_key(
    order: RunOrder, experiment_id: int, postgres: bool
) -> tuple[list[sa.Select[Any]], sa.ColumnElement[bool] | None]:
    """The queries of the runs that have the key, one per group of the order (columns
    ``key`` and ``value``, without the search's conditions), and the condition of a run
    that lacks it (None: none can)."""
    text = (lambda column: column.collate("C")) if postgres else (lambda column: column)
    if order.kind is SortKind.METRIC:
        column = summaries.c[_column(order.aggregate)]
        present = (
            sa.select(summaries.c.run_key.label("key"), column.label("value"))
            .join(runs, runs.c.id == summaries.c.run_key)
            .where(
                summaries.c.experiment_id == experiment_id,
                summaries.c.name == order.name,
                column.is_not(None),
            )
        )
        other = summaries.alias("sort_summary")
        lacking = ~sa.exists().where(
            other.c.run_key == runs.c.id,
            other.c.name == order.name,
            other.c[_column(order.aggregate)].is_not(None),
        )
        return [present], lacking
    if order.kind is SortKind.PARAMETER:
        # Numbers walk the (experiment, name, number, run) index; text values are few.
        def group(value: sa.ColumnElement[Any], is_number: bool) -> sa.Select[Any]:
            number = run_params.c.number
            return (
                sa.select(run_params.c.run_key.label("key"), value.label("value"))
                .join(runs, runs.c.id == run_params.c.run_key)
                .where(
                    run_params.c.experiment_id == experiment_id,
                    run_params.c.name == order.name,
                    number.is_not(None) if is_number else number.is_(None),
                )
            )

        other = run_params.alias("sort_param")
        lacking = ~sa.exists().where(other.c.run_key == runs.c.id, other.c.name == order.name)
        return [group(run_params.c.number, True), group(text(run_params.c.value), False)], lacking
    if order.kind in (SortKind.TAG, SortKind.PROPERTY):
        table = run_tags if order.kind is SortKind.TAG else run_properties
        present = (
            sa.select(table.c.owner_id.label("key"), text(table.c.value).label("value"))
            .join(runs, runs.c.id == table.c.owner_id)
            .where(table.c.name == order.name)
        )
        other = table.alias("sort_value")
        lacking = ~sa.exists().where(other.c.owner_id == runs.c.id, other.c.name == order.name)
        return [present], lacking
    attribute = RunAttribute(order.name)
    value: sa.ColumnElement[Any]
    if attribute is RunAttribute.DURATION:
        value = runs.c.ended_at - runs.c.started_at
        unended = sa.or_(runs.c.ended_at.is_(None), runs.c.started_at.is_(None))
        present = sa.select(runs.c.id.label("key"), value.label("value")).where(~unended)
        return [present], unended
    if attribute in (RunAttribute.STATUS, RunAttribute.DISPLAY_NAME):
        value = text(runs.c[attribute.value])
    else:
        value = runs.c[attribute.value]
    return [sa.select(runs.c.id.label("key"), value.label("value"))], None


def _condition(item: RunFilter, postgres: bool) -> sa.ColumnElement[bool]:
    """The WHERE clause of one filter, on ``runs``."""
    if isinstance(item, StatusIn):
        return runs.c.status.in_([RunStatus(s).value for s in item.statuses])
    if isinstance(item, (TagEquals, TagExists, PropertyEquals)):
        table = run_properties if isinstance(item, PropertyEquals) else run_tags
        found = table.alias("filter_value")
        condition = sa.and_(found.c.owner_id == runs.c.id, found.c.name == item.name)
        if not isinstance(item, TagExists):
            condition = sa.and_(condition, found.c.value == item.value)
        return sa.exists().where(condition)
    if isinstance(item, MetricCompare):
        found = summaries.alias("filter_summary")
        compared = _COMPARE[item.op.value](found.c[_column(item.aggregate)], item.value)
        return sa.exists().where(found.c.run_key == runs.c.id, found.c.name == item.name, compared)
    if isinstance(item, DisplayNameContains):
        lowered: sa.ColumnElement[str]
        if postgres:
            lowered = sa.func.translate(runs.c.display_name, _UPPER, _LOWER)
            return sa.func.strpos(lowered, ascii_lower(item.text)) > 0
        lowered = sa.func.lower(runs.c.display_name)  # SQLite lowers A-Z only
        return sa.func.instr(lowered, ascii_lower(item.text)) > 0
    if isinstance(item, ParentIs):
        if item.run_id is None:
            return runs.c.parent_run_id.is_(None)
        return runs.c.parent_run_id == item.run_id
    raise AssertionError(f"unchecked filter {item!r}")  # check_filters refuses others


def _column(aggregate: MetricAggregate) -> str:
    return f"{aggregate.value}_value"


def _plain(value: Any) -> Any:
    """A sort value as JSON keeps it (a float stays a float)."""
    return float(value) if isinstance(value, float) else value


def _summaries(
    conn: sa.Connection, run_ids: dict[int, str], names: tuple[str, ...]
) -> dict[str, dict[str, MetricSummary]]:
    """The summaries of metrics ``names`` of the runs with these row keys."""
    found: dict[str, dict[str, MetricSummary]] = {}
    if not names or not run_ids:
        return found
    query = sa.select(summaries).where(
        summaries.c.run_key.in_(list(run_ids)), summaries.c.name.in_(names)
    )
    for key, name, _, last, step, low, high, count in conn.execute(query):
        summary = MetricSummary(name, math.nan if last is None else last, step, low, high, count)
        found.setdefault(run_ids[key], {})[name] = summary
    ordered = (run_id for run_id in run_ids.values() if run_id in found)
    return {run_id: dict(sorted(found[run_id].items())) for run_id in ordered}
