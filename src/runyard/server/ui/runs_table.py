"""The runs table of an experiment: filtered and sorted by any attribute, tag, metric or
parameter on the server, one page at a time.

Every column is filtered and sorted in SQL: a metric column is the last, lowest or highest
value of the run's scalar series of that name, from the metric summary the store keeps as
values are logged; a parameter column is the run's script argument of that name, from the
``run_params`` rows the store writes with the run's details (numbers sort as numbers,
before text). A page of 100,000 runs costs a few indexed queries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from runyard.errors import InvalidArgument, NotFound
from runyard.server.ui.columns import Column, RunFilter
from runyard.tracking import documents
from runyard.tracking.run_params import param_number, params_of
from runyard.tracking.sql.database import Database
from runyard.tracking.sql.tables import (
    experiments,
    metric_series,
    run_metric_summaries,
    run_params,
    run_tags,
    runs,
)

#: The most runs one page holds.
MAX_PAGE = 1000
#: How many of the newest runs are read to name the parameter columns.
_PARAM_SAMPLE = 200


@dataclass(frozen=True)
class RunsQuery:
    """What the runs table asks for.

    Attributes:
        experiment: the experiment's name.
        parent_run_id: None for the experiment's top-level runs; a run id for its children.
        text: keep runs whose name or id contains this (case-insensitive).
        statuses: keep runs in these statuses (all when empty).
        filters: keep runs matching every filter.
        sort: the column to sort by (missing values last either way).
        descending: sort from the highest value down.
        offset, limit: the page (``limit`` at most :data:`MAX_PAGE`).
        columns: the metric and parameter columns to fill in for the page's runs.
        with_names: also list the experiment's metric, tag and parameter names.
    """

    experiment: str
    parent_run_id: str | None = None
    text: str = ""
    statuses: tuple[str, ...] = ()
    filters: tuple[RunFilter, ...] = ()
    sort: Column = field(default_factory=lambda: Column("attr", "number"))
    descending: bool = True
    offset: int = 0
    limit: int = 100
    columns: tuple[Column, ...] = ()
    with_names: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise InvalidArgument(f"limit must be 1..{MAX_PAGE}, got {self.limit}.")
        if self.offset < 0:
            raise InvalidArgument(f"offset must be 0 or more, got {self.offset}.")


@dataclass
class RunRow:
    """One run of the table: its attributes, tags, parameters and the asked metric values
    (keyed by column id; None when the run has no value)."""

    run_id: str
    number: int
    display_name: str
    status: str
    created_at: float
    started_at: float | None
    ended_at: float | None
    target: str | None
    run_type: str
    parent_run_id: str | None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float | None] = field(default_factory=dict)


@dataclass
class RunsTable:
    """A page of the runs table, and how many runs match in all."""

    total: int
    offset: int
    rows: list[RunRow]
    metric_names: list[str] | None = None
    tag_names: list[str] | None = None
    param_names: list[str] | None = None


def query_runs(db: Database, query: RunsQuery) -> RunsTable:
    """The page of runs ``query`` asks for.

    Raises:
        NotFound: no such experiment.
    """
    with db.read() as conn:
        experiment_id = conn.execute(
            sa.select(experiments.c.id).where(experiments.c.name == query.experiment)
        ).scalar_one_or_none()
        if experiment_id is None:
            raise NotFound(f"Experiment {query.experiment!r} not found.")
        joins = _Joins(experiment_id)
        where = _where(query, experiment_id, joins)
        if query.sort.kind == "metric":
            keys, total = _page_by_metric(conn, query, where, joins)
        else:
            if query.sort.kind == "param":
                postgres = conn.dialect.name == "postgresql"
                order = _param_order(joins.param(query.sort.name), query.descending, postgres)
            else:
                order = _order(joins.value(query.sort), query.descending, query.sort)
            total = conn.execute(
                sa.select(sa.func.count()).select_from(joins.source).where(*where)
            ).scalar_one()
            keys = list(
                conn.execute(
                    sa.select(runs.c.id)
                    .select_from(joins.source)
                    .where(*where)
                    .order_by(*order)
                    .offset(query.offset)
                    .limit(query.limit)
                ).scalars()
            )
        rows = _rows(conn, keys, query.columns)
        table = RunsTable(total=int(total), offset=query.offset, rows=rows)
        if query.with_names:
            _add_names(conn, table, experiment_id, query)
    return table


class _Joins:
    """The runs table joined, once per name, to the metric summaries and tags a query
    filters or sorts on (outer joins: a run without the value is kept, sorted last).

    Joins rather than a subquery per row: the database reads each summary once, and a
    filter on a metric becomes a range of the summaries' (experiment, name, value) index.
    """

    def __init__(self, experiment_id: int) -> None:
        self.experiment_id = experiment_id
        self.source: Any = runs
        self._aliases: dict[tuple[str, str], Any] = {}

    def param(self, name: str) -> Any:
        """The ``run_params`` row of parameter ``name``, joined (NULLs where a run lacks it)."""
        alias = self._aliases.get(("param", name))
        if alias is None:
            alias = run_params.alias(f"p{len(self._aliases)}")
            on = sa.and_(alias.c.run_key == runs.c.id, alias.c.name == name)
            self.source = self.source.outerjoin(alias, on)
            self._aliases[("param", name)] = alias
        return alias

    def value(self, column: Column) -> sa.ColumnElement[Any]:
        """The SQL value of ``column`` in the joined rows."""
        if column.kind not in ("metric", "tag"):
            return _expression(column)
        key = (column.kind, column.name)
        alias = self._aliases.get(key)
        if alias is None:
            if column.kind == "metric":
                alias = run_metric_summaries.alias(f"m{len(self._aliases)}")
                on = sa.and_(
                    alias.c.run_key == runs.c.id,
                    alias.c.experiment_id == self.experiment_id,
                    alias.c.name == column.name,
                )
            else:
                alias = run_tags.alias(f"t{len(self._aliases)}")
                on = sa.and_(alias.c.owner_id == runs.c.id, alias.c.name == column.name)
            self.source = self.source.outerjoin(alias, on)
            self._aliases[key] = alias
        if column.kind == "tag":
            return alias.c.value
        return alias.c[f"{column.agg}_value"]


#: Run attributes that are never NULL: their order needs no "missing last" term, so an
#: index on them can give the order.
_NEVER_NULL = frozenset({"number", "display_name", "run_id", "status", "created_at", "run_type"})


def _where(query: RunsQuery, experiment_id: int, joins: _Joins) -> list[sa.ColumnElement[bool]]:
    where = [runs.c.experiment_id == experiment_id]
    if query.parent_run_id is None:
        where.append(runs.c.parent_run_id.is_(None))
    else:
        where.append(runs.c.parent_run_id == query.parent_run_id)
    if query.statuses:
        where.append(runs.c.status.in_(query.statuses))
    if query.text:
        pattern = f"%{query.text.lower()}%"
        where.append(
            sa.or_(
                sa.func.lower(runs.c.display_name).like(pattern),
                sa.func.lower(runs.c.run_id).like(pattern),
            )
        )
    for run_filter in query.filters:
        if run_filter.column.kind == "param":
            where.append(_param_condition(joins.param(run_filter.column.name), run_filter))
        else:
            where.append(_condition(joins.value(run_filter.column), run_filter))
    return where


def _param_condition(param: Any, run_filter: RunFilter) -> Any:
    """A filter on a parameter: ``=`` and ``!=`` compare the text (a run without the
    parameter is ``!=`` anything), ``contains`` the text ignoring case, the others the
    number (a value that is not a number matches none)."""
    op, wanted = run_filter.op, str(run_filter.value)
    if op == "contains":
        return sa.func.lower(param.c.value).like(f"%{wanted.lower()}%")
    if op == "=":
        return param.c.value == wanted
    if op == "!=":
        return sa.or_(param.c.value.is_(None), param.c.value != wanted)
    number = param_number(wanted)
    if number is None:
        return sa.false()
    column = param.c.number
    return {"<": column < number, "<=": column <= number, ">": column > number}.get(
        op, column >= number
    )


def _param_order(param: Any, descending: bool, postgres: bool) -> list[Any]:
    """Numbers (as numbers) before text (by code point), runs without the parameter last;
    each part in the asked direction."""
    group = sa.case((param.c.number.is_not(None), 0), (param.c.value.is_not(None), 1), else_=2)
    text = param.c.value.collate("C") if postgres else param.c.value  # code point order
    keys = [param.c.number, text, runs.c.id]
    return [group, *(key.desc() if descending else key.asc() for key in keys)]


def _expression(column: Column) -> sa.ColumnElement[Any]:
    """The SQL value of ``column`` for the run row in scope (a correlated subquery for tags
    and metrics)."""
    if column.kind == "attr":
        if column.name == "duration":
            end = sa.func.coalesce(runs.c.ended_at, time.time())
            return end - sa.func.coalesce(runs.c.started_at, runs.c.created_at)
        return runs.c[column.name]
    if column.kind == "tag":
        return (
            sa.select(run_tags.c.value)
            .where(run_tags.c.owner_id == runs.c.id, run_tags.c.name == column.name)
            .scalar_subquery()
        )
    if column.kind == "metric":
        # The summary the store keeps as values are logged (indexed by experiment, name
        # and value): sorting 100,000 runs by a metric never reads the values themselves.
        value = {
            "last": run_metric_summaries.c.last_value,
            "min": run_metric_summaries.c.min_value,
            "max": run_metric_summaries.c.max_value,
        }[column.agg]
        return (
            sa.select(value)
            .where(
                run_metric_summaries.c.run_key == runs.c.id,
                run_metric_summaries.c.name == column.name,
            )
            .scalar_subquery()
        )
    raise InvalidArgument(f"Column {column.id!r} is not sortable in SQL.")


def _condition(expression: sa.ColumnElement[Any], run_filter: RunFilter) -> Any:
    op, value = run_filter.op, run_filter.value
    if op == "contains":
        return sa.func.lower(sa.cast(expression, sa.Text)).like(f"%{str(value).lower()}%")
    numeric = run_filter.column.kind == "metric" or run_filter.column.name in (
        "number",
        "created_at",
        "started_at",
        "ended_at",
        "duration",
    )
    operand: Any = float(value) if numeric else str(value)
    comparisons = {
        "=": expression == operand,
        "!=": expression != operand,
        "<": expression < operand,
        "<=": expression <= operand,
        ">": expression > operand,
        ">=": expression >= operand,
    }
    return comparisons[op]


def _order(expression: sa.ColumnElement[Any], descending: bool, column: Column) -> list[Any]:
    direction = expression.desc() if descending else expression.asc()
    tiebreak = runs.c.id.desc() if descending else runs.c.id.asc()
    if column.kind == "attr" and column.name in _NEVER_NULL:
        return [direction, tiebreak]
    return [sa.case((expression.is_(None), 1), else_=0), direction, tiebreak]


def rows_of_runs(
    db: Database, run_ids: list[str], columns: tuple[Column, ...]
) -> tuple[list[RunRow], list[str]]:
    """The table rows of ``run_ids`` (in that order; unknown ids left out) with the asked
    metric columns, and the names of the scalar metrics any of them logged."""
    if len(run_ids) > MAX_PAGE:
        raise InvalidArgument(f"At most {MAX_PAGE} runs at once, got {len(run_ids)}.")
    with db.read() as conn:
        found = dict(
            conn.execute(
                sa.select(runs.c.run_id, runs.c.id).where(runs.c.run_id.in_(run_ids))
            ).all()
        )
        keys = [found[r] for r in run_ids if r in found]
        names = list(
            conn.execute(
                sa.select(metric_series.c.name)
                .where(metric_series.c.run_key.in_(keys), metric_series.c.kind == "scalar")
                .distinct()
                .order_by(metric_series.c.name)
            ).scalars()
        )
        return _rows(conn, keys, columns), names


def _page_by_metric(
    conn: sa.Connection, query: RunsQuery, where: list[sa.ColumnElement[bool]], joins: _Joins
) -> tuple[list[int], int]:
    """A page sorted by a metric column: first the runs that have the value, walked in the
    order of the summaries' (experiment, name, value, run) index from the page's offset;
    then, by row key, those that lack it. Neither sorts the experiment's runs, which one
    ORDER BY with "missing last" makes the database do for every page."""
    total = conn.execute(
        sa.select(sa.func.count()).select_from(joins.source).where(*where)
    ).scalar_one()
    agg = query.sort.agg
    sorted_by = run_metric_summaries.alias("sorted_by")
    value = sorted_by.c[f"{agg}_value"]
    has_value = [
        sorted_by.c.experiment_id == joins.experiment_id,
        sorted_by.c.name == query.sort.name,
        value.is_not(None),
    ]
    direction = (lambda c: c.desc()) if query.descending else (lambda c: c.asc())
    keys = list(
        conn.execute(
            sa.select(runs.c.id)
            .select_from(joins.source.join(sorted_by, sorted_by.c.run_key == runs.c.id))
            .where(*where, *has_value)
            .order_by(direction(value), direction(sorted_by.c.run_key))
            .offset(query.offset)
            .limit(query.limit)
        ).scalars()
    )
    if len(keys) < query.limit:  # past the runs that have a value: those that lack it
        if keys:
            with_value = query.offset + len(keys)
        else:
            present = joins.source.join(sorted_by, sorted_by.c.run_key == runs.c.id)
            with_value = conn.execute(
                sa.select(sa.func.count()).select_from(present).where(*where, *has_value)
            ).scalar_one()
        lacking = ~sa.exists().where(
            sorted_by.c.run_key == runs.c.id,
            sorted_by.c.name == query.sort.name,
            value.is_not(None),
        )
        keys += conn.execute(
            sa.select(runs.c.id)
            .select_from(joins.source)
            .where(*where, lacking)
            .order_by(direction(runs.c.id))
            .offset(max(0, query.offset - with_value))
            .limit(query.limit - len(keys))
        ).scalars()
    return keys, int(total)


def _rows(conn: sa.Connection, keys: list[int], columns: tuple[Column, ...]) -> list[RunRow]:
    if not keys:
        return []
    found = {row.id: row for row in conn.execute(sa.select(runs).where(runs.c.id.in_(keys)))}
    tags: dict[int, dict[str, str]] = {key: {} for key in keys}
    for owner, name, value in conn.execute(
        sa.select(run_tags.c.owner_id, run_tags.c.name, run_tags.c.value).where(
            run_tags.c.owner_id.in_(keys)
        )
    ):
        tags[owner][name] = value
    metric_columns = [c for c in columns if c.kind == "metric"]
    values: dict[int, dict[str, float | None]] = {key: {} for key in keys}
    if metric_columns:
        selected = [_expression(c).label(f"m{i}") for i, c in enumerate(metric_columns)]
        for row in conn.execute(sa.select(runs.c.id, *selected).where(runs.c.id.in_(keys))):
            for i, column in enumerate(metric_columns):
                values[row.id][column.id] = row[i + 1]
    out = []
    for key in keys:
        row = found[key]
        out.append(
            RunRow(
                run_id=row.run_id,
                number=row.number,
                display_name=row.display_name,
                status=row.status,
                created_at=row.created_at,
                started_at=row.started_at,
                ended_at=row.ended_at,
                target=row.target,
                run_type=row.run_type,
                parent_run_id=row.parent_run_id,
                tags=tags[key],
                params=params_of(documents.loads(row.details) or {}),
                metrics=values[key],
            )
        )
    return out


def _add_names(conn: sa.Connection, table: RunsTable, experiment_id: int, query: RunsQuery) -> None:
    in_experiment = sa.select(runs.c.id).where(runs.c.experiment_id == experiment_id)
    table.metric_names = list(
        conn.execute(
            sa.select(run_metric_summaries.c.name)
            .where(run_metric_summaries.c.experiment_id == experiment_id)
            .distinct()
            .order_by(run_metric_summaries.c.name)
        ).scalars()
    )
    table.tag_names = list(
        conn.execute(
            sa.select(run_tags.c.name)
            .where(run_tags.c.owner_id.in_(in_experiment))
            .distinct()
            .order_by(run_tags.c.name)
        ).scalars()
    )
    newest = conn.execute(
        sa.select(runs.c.details)
        .where(runs.c.experiment_id == experiment_id)
        .order_by(runs.c.id.desc())
        .limit(_PARAM_SAMPLE)
    ).scalars()
    names: set[str] = set()
    for details in newest:
        names.update(params_of(documents.loads(details) or {}))
    table.param_names = sorted(names)
