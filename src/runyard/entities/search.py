"""Run search: the typed filters and orders of ``TrackingStore.search_runs``, the metric
summary a store keeps per (run, metric name), and the page a search returns.

A search is the runs of one experiment that match *every* filter, in one order. Filters
and orders name what they look at with a kind (an attribute of the run, a metric, a tag or
a property) and a name, so the REST API and the web UI can send them as plain JSON.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any, TypeVar

from runyard.entities.run import RunRecord, RunStatus
from runyard.errors import InvalidArgument


class RunAttribute(str, enum.Enum):
    """The attributes of a run a search can order by.

    ``duration`` is ``ended_at - started_at``: runs that have not ended (or never started)
    have none, and sort with the runs that lack the key.
    """

    CREATED_AT = "created_at"
    NUMBER = "number"
    STATUS = "status"
    DURATION = "duration"
    DISPLAY_NAME = "display_name"


class MetricAggregate(str, enum.Enum):
    """Which of a metric's summary values a filter or an order looks at."""

    LAST = "last"  # the value logged last (NaN when that was NaN)
    MIN = "min"  # the lowest non-NaN value
    MAX = "max"  # the highest non-NaN value


class Comparison(str, enum.Enum):
    """A comparison of a metric against a number."""

    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "="

    def holds(self, left: float, right: float) -> bool:
        """``left <op> right`` (False when either is NaN, as in SQL)."""
        if self is Comparison.LT:
            return left < right
        if self is Comparison.LE:
            return left <= right
        if self is Comparison.GT:
            return left > right
        if self is Comparison.GE:
            return left >= right
        return left == right


class SortKind(str, enum.Enum):
    """What an order looks at."""

    ATTRIBUTE = "attribute"
    METRIC = "metric"
    TAG = "tag"
    PROPERTY = "property"
    PARAMETER = "parameter"


@dataclass(frozen=True)
class RunOrder:
    """The order of a search: one key, ascending or descending.

    Runs that lack the key (no such metric, tag or property; a metric whose chosen value
    is NaN; a run with no duration) come after all the others, whichever the direction.
    Ties, and the runs that lack the key, are in creation order in the same direction
    (ascending: older first), so every order is total and pages never overlap. Text
    (tags, properties, names, statuses) compares by Unicode code point on every store.

    Build one with :meth:`attribute`, :meth:`metric`, :meth:`tag`, :meth:`property` or
    :meth:`parameter`.
    """

    kind: SortKind
    name: str
    descending: bool = False
    aggregate: MetricAggregate = MetricAggregate.LAST

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _enum(SortKind, self.kind, "order kind"))
        object.__setattr__(
            self, "aggregate", _enum(MetricAggregate, self.aggregate, "metric aggregate")
        )
        _name(self.name, f"{self.kind.value} to order by")
        if self.kind is SortKind.ATTRIBUTE:
            _enum(RunAttribute, self.name, "run attribute to order by")
        if type(self.descending) is not bool:
            raise InvalidArgument(f"descending must be true or false, got {self.descending!r}.")

    @classmethod
    def attribute(cls, name: RunAttribute | str, *, descending: bool = False) -> RunOrder:
        """Order by an attribute of the run (see :class:`RunAttribute`)."""
        return cls(SortKind.ATTRIBUTE, _enum(RunAttribute, name, "run attribute").value, descending)

    @classmethod
    def metric(
        cls,
        name: str,
        aggregate: MetricAggregate | str = MetricAggregate.LAST,
        *,
        descending: bool = False,
    ) -> RunOrder:
        """Order by a scalar metric's last, lowest or highest value."""
        return cls(SortKind.METRIC, name, descending, MetricAggregate(aggregate))

    @classmethod
    def tag(cls, name: str, *, descending: bool = False) -> RunOrder:
        """Order by the value of a tag (as text)."""
        return cls(SortKind.TAG, name, descending)

    @classmethod
    def property(cls, name: str, *, descending: bool = False) -> RunOrder:
        """Order by the value of a property (as text)."""
        return cls(SortKind.PROPERTY, name, descending)

    @classmethod
    def parameter(cls, name: str, *, descending: bool = False) -> RunOrder:
        """Order by a parameter (the run definition's ``--name value`` script argument):
        values that read as finite numbers first, as numbers, then the others as text,
        each part in the order's direction; runs without the parameter last."""
        return cls(SortKind.PARAMETER, name, descending)


@dataclass(frozen=True)
class StatusIn:
    """Runs whose status is one of ``statuses``."""

    statuses: tuple[RunStatus, ...]

    def __post_init__(self) -> None:
        if isinstance(self.statuses, (str, RunStatus)) or not self.statuses:
            raise InvalidArgument("StatusIn needs a non-empty list of statuses.")
        statuses = tuple(_enum(RunStatus, s, "run status") for s in self.statuses)
        object.__setattr__(self, "statuses", statuses)


@dataclass(frozen=True)
class TagEquals:
    """Runs with tag ``name`` set to ``value``."""

    name: str
    value: str

    def __post_init__(self) -> None:
        _name(self.name, "tag")
        _text(self.value, f"value of tag {self.name!r}")


@dataclass(frozen=True)
class TagExists:
    """Runs that have tag ``name`` (any value)."""

    name: str

    def __post_init__(self) -> None:
        _name(self.name, "tag")


@dataclass(frozen=True)
class PropertyEquals:
    """Runs with property ``name`` set to ``value``."""

    name: str
    value: str

    def __post_init__(self) -> None:
        _name(self.name, "property")
        _text(self.value, f"value of property {self.name!r}")


@dataclass(frozen=True)
class MetricCompare:
    """Runs whose scalar metric ``name`` (its last, lowest or highest value) compares
    with ``value`` as ``op`` says. A run without the metric, or whose chosen value is NaN,
    never matches."""

    name: str
    op: Comparison
    value: float
    aggregate: MetricAggregate = MetricAggregate.LAST

    def __post_init__(self) -> None:
        _name(self.name, "metric")
        object.__setattr__(self, "op", _enum(Comparison, self.op, "comparison"))
        object.__setattr__(
            self, "aggregate", _enum(MetricAggregate, self.aggregate, "metric aggregate")
        )
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise InvalidArgument(
                f"Metric {self.name!r} can only be compared with a number, got {self.value!r}."
            )
        if math.isnan(self.value):
            raise InvalidArgument(f"Metric {self.name!r} cannot be compared with NaN.")
        object.__setattr__(self, "value", float(self.value))


@dataclass(frozen=True)
class DisplayNameContains:
    """Runs whose display name contains ``text``; letters A-Z match either case, every
    other character only itself (the same on every store)."""

    text: str

    def __post_init__(self) -> None:
        _text(self.text, "display name text")
        if not self.text:
            raise InvalidArgument("DisplayNameContains needs some text to look for.")


@dataclass(frozen=True)
class ParentIs:
    """Runs whose parent is ``run_id``; ``None`` keeps the top-level runs."""

    run_id: str | None

    def __post_init__(self) -> None:
        if self.run_id is not None:
            _name(self.run_id, "parent run id")


RunFilter = (
    StatusIn
    | TagEquals
    | TagExists
    | PropertyEquals
    | MetricCompare
    | DisplayNameContains
    | ParentIs
)
RUN_FILTERS = (
    StatusIn,
    TagEquals,
    TagExists,
    PropertyEquals,
    MetricCompare,
    DisplayNameContains,
    ParentIs,
)


@dataclass(frozen=True)
class MetricSummary:
    """What a store keeps of one scalar metric of a run as it is logged.

    ``last`` is the value logged last (NaN kept) and ``last_step`` its step; ``min`` and
    ``max`` leave NaN out (None when every value was NaN); ``count`` counts every scalar
    value, NaN included. The sign of a zero is not kept (-0.0 is summarized as 0.0).
    """

    name: str
    last: float
    last_step: int | None
    min: float | None
    max: float | None
    count: int

    def value(self, aggregate: MetricAggregate) -> float | None:
        """The value a filter or an order on ``aggregate`` looks at (None: not there)."""
        if aggregate is MetricAggregate.LAST:
            return None if math.isnan(self.last) else self.last
        return self.min if aggregate is MetricAggregate.MIN else self.max


@dataclass
class RunSearchPage:
    """One page of ``search_runs``.

    ``metrics`` maps a run id to the summaries of the metrics asked for (only those the
    run has). ``next_page_token`` is None on the last page; pass it with the same
    experiment, filters and order to get the next one.
    """

    runs: list[RunRecord]
    metrics: dict[str, dict[str, MetricSummary]] = field(default_factory=dict)
    next_page_token: str | None = None


def check_filters(filters: object) -> tuple[RunFilter, ...]:
    """``filters`` as a tuple, each one a known filter record, else InvalidArgument."""
    if filters is None:
        return ()
    if isinstance(filters, (str, bytes, dict)) or not hasattr(filters, "__iter__"):
        raise InvalidArgument(f"filters must be a list of filter records, got {filters!r}.")
    found = tuple(filters)
    for item in found:
        if not isinstance(item, RUN_FILTERS):
            known = ", ".join(kind.__name__ for kind in RUN_FILTERS)
            raise InvalidArgument(f"{item!r} is not a run filter. Filters are: {known}.")
    return found


def check_order(order_by: object) -> RunOrder | None:
    """``order_by`` if it is None or a RunOrder, else InvalidArgument."""
    if order_by is not None and not isinstance(order_by, RunOrder):
        raise InvalidArgument(
            f"order_by must be a RunOrder (RunOrder.metric('loss'), ...), got {order_by!r}."
        )
    return order_by


def check_metric_names(names: object) -> tuple[str, ...]:
    """The metric names whose summaries a search returns, each a non-empty string."""
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise InvalidArgument(f"metrics must be a list of metric names, got {names!r}.")
    found = tuple(dict.fromkeys(names))
    for name in found:
        _name(name, "metric")
    return found


def ascii_lower(text: str) -> str:
    """``text`` with A-Z lowered and nothing else changed (as SQLite's ``lower``)."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

_E = TypeVar("_E", bound=enum.Enum)


def _enum(kind: type[_E], value: object, what: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(repr(member.value) for member in kind)
        raise InvalidArgument(f"{value!r} is not a {what}. Known: {known}.") from None


def _name(value: object, what: str) -> None:
    if not isinstance(value, str) or not value or len(value) > 255:
        raise InvalidArgument(f"The name of the {what} must be 1 to 255 characters, got {value!r}.")


def _text(value: object, what: str) -> None:
    if not isinstance(value, str):
        raise InvalidArgument(f"The {what} must be text, got {value!r}.")


# -- JSON (the REST API's body) ----------------------------------------------------------
def filter_to_json(item: RunFilter) -> dict[str, Any]:
    """``item`` as the JSON object :func:`filter_from_json` reads."""
    if isinstance(item, StatusIn):
        return {"type": "status", "in": [s.value for s in item.statuses]}
    if isinstance(item, TagEquals):
        return {"type": "tag", "name": item.name, "value": item.value}
    if isinstance(item, TagExists):
        return {"type": "tag", "name": item.name}
    if isinstance(item, PropertyEquals):
        return {"type": "property", "name": item.name, "value": item.value}
    if isinstance(item, MetricCompare):
        return {
            "type": "metric",
            "name": item.name,
            "op": item.op.value,
            "value": item.value,
            "aggregate": item.aggregate.value,
        }
    if isinstance(item, DisplayNameContains):
        return {"type": "display_name", "contains": item.text}
    return {"type": "parent", "run_id": item.run_id}


def filter_from_json(data: object) -> RunFilter:
    """The filter a JSON object describes: ``{"type": "status", "in": [...]}``, ``{"type":
    "tag", "name": ..., "value": ...}`` (no value: the tag exists), ``{"type": "property",
    "name", "value"}``, ``{"type": "metric", "name", "op", "value", "aggregate"?}``,
    ``{"type": "display_name", "contains": ...}``, ``{"type": "parent", "run_id": ...}``.

    Raises:
        InvalidArgument: any other shape.
    """
    if not isinstance(data, dict):
        raise InvalidArgument(f"A filter must be a JSON object, got {data!r}.")
    kind = data.get("type")
    fields = {k: v for k, v in data.items() if k != "type"}
    shapes: dict[str, tuple[set[str], set[str]]] = {  # required, optional keys
        "status": ({"in"}, set()),
        "tag": ({"name"}, {"value"}),
        "property": ({"name", "value"}, set()),
        "metric": ({"name", "op", "value"}, {"aggregate"}),
        "display_name": ({"contains"}, set()),
        "parent": ({"run_id"}, set()),
    }
    if kind not in shapes:
        known = ", ".join(repr(k) for k in shapes)
        raise InvalidArgument(f"Filter type {kind!r} is not known. Known: {known}.")
    required, optional = shapes[str(kind)]
    if not required <= fields.keys() <= required | optional:
        raise InvalidArgument(
            f"A {kind!r} filter takes {sorted(required)} (and optionally {sorted(optional)}), "
            f"got {sorted(fields)}."
        )
    if kind == "status":
        statuses = fields["in"]
        if not isinstance(statuses, list):
            raise InvalidArgument(f"A status filter's 'in' must be a list, got {statuses!r}.")
        return StatusIn(tuple(statuses))
    if kind == "tag":
        if "value" in fields:
            return TagEquals(fields["name"], fields["value"])
        return TagExists(fields["name"])
    if kind == "property":
        return PropertyEquals(fields["name"], fields["value"])
    if kind == "metric":
        value = fields["value"]
        if isinstance(value, str):  # the wire's NaN and infinities
            value = {"Infinity": math.inf, "-Infinity": -math.inf}.get(value, value)
        aggregate = fields.get("aggregate", MetricAggregate.LAST.value)
        return MetricCompare(fields["name"], fields["op"], value, aggregate)
    if kind == "display_name":
        return DisplayNameContains(fields["contains"])
    return ParentIs(fields["run_id"])


def order_to_json(order: RunOrder) -> dict[str, Any]:
    """``order`` as the JSON object :func:`order_from_json` reads."""
    return {
        "kind": order.kind.value,
        "name": order.name,
        "descending": order.descending,
        "aggregate": order.aggregate.value,
    }


def order_from_json(data: object) -> RunOrder:
    """The order ``{"kind": "attribute"|"metric"|"tag"|"property"|"parameter", "name": ...,
    "descending"?: bool, "aggregate"?: "last"|"min"|"max"}`` describes (InvalidArgument
    otherwise)."""
    if not isinstance(data, dict) or not {"kind", "name"} <= data.keys() <= {
        "kind",
        "name",
        "descending",
        "aggregate",
    }:
        raise InvalidArgument(
            "order_by must be an object with 'kind' and 'name' (and optionally 'descending' "
            f"and 'aggregate'), got {data!r}."
        )
    return RunOrder(
        data["kind"],
        data["name"],
        data.get("descending", False),
        data.get("aggregate", MetricAggregate.LAST.value),
    )
