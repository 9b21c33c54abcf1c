"""The columns of the runs table: what a column id names, and how a filter reads.

A column id is ``KIND:NAME`` (``attr:status``, ``tag:team``, ``param:--lr``) or, for a
metric, ``metric:NAME:AGG`` with AGG ``last``, ``min`` or ``max`` (``metric:loss:min``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from runyard.errors import InvalidArgument

ColumnKind = Literal["attr", "tag", "param", "metric"]
#: The run attributes a table can show, sort and filter on.
ATTRIBUTES = (
    "number",
    "display_name",
    "run_id",
    "status",
    "created_at",
    "started_at",
    "ended_at",
    "duration",
    "target",
    "run_type",
)
METRIC_AGGREGATES = ("last", "min", "max")
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "contains")


@dataclass(frozen=True)
class Column:
    """One column of the runs table."""

    kind: ColumnKind
    name: str
    agg: str = "last"

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}" + (f":{self.agg}" if self.kind == "metric" else "")


def parse_column(text: str) -> Column:
    """The column ``text`` names.

    Raises:
        InvalidArgument: not ``KIND:NAME``, an unknown kind, attribute or aggregate.
    """
    kind, _, rest = text.partition(":")
    if not rest:
        raise InvalidArgument(
            f"Column {text!r} is not KIND:NAME (attr:status, tag:team, param:lr, metric:loss:last)."
        )
    if kind == "attr":
        if rest not in ATTRIBUTES:
            raise InvalidArgument(
                f"Unknown run attribute {rest!r}. Attributes: {', '.join(ATTRIBUTES)}."
            )
        return Column("attr", rest)
    if kind in ("tag", "param"):
        return Column(kind, rest)  # type: ignore[arg-type]
    if kind == "metric":
        name, agg = rest, "last"
        head, sep, tail = rest.rpartition(":")
        if sep and tail in METRIC_AGGREGATES:
            name, agg = head, tail
        if not name:
            raise InvalidArgument(f"Column {text!r} names no metric.")
        return Column("metric", name, agg)
    raise InvalidArgument(f"Unknown column kind {kind!r} in {text!r}: attr, tag, param, metric.")


@dataclass(frozen=True)
class RunFilter:
    """Keep the runs whose ``column`` compares to ``value`` with ``op``."""

    column: Column
    op: str
    value: str | float

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise InvalidArgument(
                f"Unknown filter operator {self.op!r}. Operators: {', '.join(OPERATORS)}."
            )
        if self.column.kind == "metric" and self.op != "contains":
            try:
                float(self.value)
            except ValueError as exc:
                raise InvalidArgument(
                    f"A filter on metric {self.column.name!r} needs a number, got {self.value!r}."
                ) from exc
