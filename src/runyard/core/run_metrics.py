"""A run's metrics: the SDK v1 logging methods and ``get_metrics``' shapes."""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runyard.entities.metric import MetricKind, MetricRecord
from runyard.entities.validation import (
    MAX_METRIC_CELLS,
    ValidationError,
    check_cell_text,
    check_key,
    check_tag_value,
    to_metric_float,
)
from runyard.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from runyard.tracking.buffer import MetricBuffer

_SCALAR = MetricKind.SCALAR
#: The kinds ``run.log`` writes: one value per call.
_ONE_BY_ONE = (MetricKind.SCALAR, MetricKind.TEXT)
_now = time.time
_INT64 = 2**63
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9 _.\-]+")


class RunMetricsMixin:
    """Metric methods of :class:`runyard.core.run.Run`.

    ``log`` is the hot path: a type check and one queue append. Everything is written by
    the workspace's background writer; ``flush()`` waits for it.
    """

    id: str
    _checked_names: set[str]
    _append_metric: Any

    @property
    def _buffer(self) -> MetricBuffer:  # provided by Run
        raise NotImplementedError

    def _emit(self, name: str, kind: MetricKind, value: Any, step: int | None) -> None:
        self._buffer.append((self.id, name, value, kind, step, time.time()))

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log a number or a text. Logging one name several times makes a list.

        Args:
            name: the metric's name.
            value: a number (int, float, numpy scalar; NaN and +-inf are kept) or a
                string of at most 5,000 characters (kept as text, as SDK v1 does).
            description: accepted for SDK v1 compatibility.
            step: an optional step (epoch, iteration) stored with the value.

        Raises:
            InvalidArgument: the value is neither a number nor a string, a string is too
                long, or the name is not allowed.
        """
        if type(value) is not float:
            if isinstance(value, str):
                self._log_text(name, value, step)
                return
            value = _number(name, value)
        if name not in self._checked_names:
            check_key("Metric", name)
            self._checked_names.add(name)
        if step is not None and (type(step) is not int or not _STEP_MIN <= step <= _STEP_MAX):
            step = _check_step(name, step)
        try:
            append = self._append_metric
        except AttributeError:
            append = self._append_metric = self._buffer.append
        append((self.id, name, value, _SCALAR, step, _now()))

    def _log_text(self, name: str, value: str, step: int | None) -> None:
        check_key("Metric", name)
        text = check_tag_value("Metric", name, value)
        if step is not None:
            step = _check_step(name, step)
        self._emit(name, MetricKind.TEXT, text, step)

    def log_list(self, name: str, value: Sequence[Any], description: str = "") -> None:
        """Log a list of numbers as one metric."""
        check_key("Metric", name)
        values = _number_list(name, value)
        self._emit(name, MetricKind.LIST, values, None)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Add one row to a table metric built row by row: ``log_row('t', x=1, y=2)``."""
        check_key("Metric", name)
        if not kwargs:
            raise InvalidArgument(f"log_row({name!r}) needs at least one column=value.")
        row = {check_key("Column", k): _cell(name, v) for k, v in kwargs.items()}
        self._emit(name, MetricKind.ROW, row, None)

    def log_table(self, name: str, value: dict[str, Sequence[Any]], description: str = "") -> None:
        """Log a table as a dict of equally long columns: ``{'x': [1, 2], 'y': [3, 4]}``."""
        check_key("Metric", name)
        if not isinstance(value, dict) or not value:
            raise InvalidArgument(f"log_table({name!r}) needs a non-empty dict of columns.")
        columns = {
            check_key("Column", k): [_cell(name, v) for v in col] for k, col in value.items()
        }
        lengths = {len(c) for c in columns.values()}
        if len(lengths) > 1:
            raise InvalidArgument(
                f"Table {name!r} has columns of different lengths: "
                + ", ".join(f"{k}={len(c)}" for k, c in columns.items())
            )
        if sum(len(c) for c in columns.values()) > MAX_METRIC_CELLS:
            raise InvalidArgument(f"Table {name!r} has more than {MAX_METRIC_CELLS} cells.")
        self._emit(name, MetricKind.TABLE, columns, None)

    def log_image(
        self,
        name: str,
        path: str | os.PathLike[str] | None = None,
        plot: Any = None,
        description: str = "",
    ) -> None:
        """Log an image: a PNG file (``path``) or a matplotlib figure (``plot``).

        The image is stored as a run file under ``images/`` and the metric holds its name.
        """
        check_key("Metric", name)
        if (path is None) == (plot is None):
            raise InvalidArgument(f"log_image({name!r}) needs exactly one of path or plot.")
        if plot is not None:
            data = self._upload_figure(name, plot)  # type: ignore[attr-defined]
        else:
            local = os.fspath(path)  # type: ignore[arg-type]
            if not os.path.isfile(local):
                raise NotFound(f"log_image({name!r}): no such file {local!r}.")
            with open(local, "rb") as fh:
                data = fh.read()
            if not data.startswith(b"\x89PNG"):
                data = _to_png(local, data)
        file_name = f"images/{_UNSAFE_FILE_CHARS.sub('_', name)}_{time.time_ns()}.png"
        self._upload_bytes(file_name, data)  # type: ignore[attr-defined]
        self._emit(name, MetricKind.IMAGE, file_name, None)

    def flush(self) -> None:
        """Write every metric logged so far; returns when they are stored."""
        self._buffer.flush()

    def get_metrics(
        self, name: str | None = None, recursive: bool = False, **_: Any
    ) -> dict[str, Any]:
        """Metrics as SDK v1 shapes them: a scalar for one value, a list for several,
        a dict of columns for tables.

        Args:
            name: only this metric.
            recursive: also the child runs', as ``{run_id: metrics}``.
        """
        self.flush()
        own = shape_metrics(self._fetch_metrics(name))
        if not recursive:
            return own
        result = {self.id: own}
        for child in self.get_children(recursive=True):  # type: ignore[attr-defined]
            result[child.id] = shape_metrics(child._fetch_metrics(name))
        return result

    def _fetch_metrics(self, name: str | None) -> list[MetricRecord]:
        raise NotImplementedError


def shape_metrics(records: list[MetricRecord]) -> dict[str, Any]:
    """Turn stored records into what ``get_metrics`` returns."""
    grouped: dict[str, list[MetricRecord]] = {}
    for r in records:
        grouped.setdefault(r.name, []).append(r)
    result: dict[str, Any] = {}
    for name, recs in grouped.items():
        kind = recs[-1].kind
        if kind in _ONE_BY_ONE:
            # Numbers and texts of one name make one list, in logging order, as in SDK v1.
            values = [r.value for r in recs if r.kind in _ONE_BY_ONE]
            result[name] = values[0] if len(values) == 1 else values
        elif kind == MetricKind.ROW:
            table: dict[str, list[Any]] = {}
            rows = [r.value for r in recs if r.kind == MetricKind.ROW]
            for i, row in enumerate(rows):
                for col, cell in row.items():
                    table.setdefault(col, [None] * i).append(cell)
                for col in table:
                    if len(table[col]) < i + 1:
                        table[col].append(None)
            result[name] = table
        elif kind == MetricKind.IMAGE:
            images = [r.value for r in recs if r.kind == MetricKind.IMAGE]
            result[name] = images[0] if len(images) == 1 else images
        else:  # LIST and TABLE: the last one logged
            result[name] = recs[-1].value
    return result


def _number(name: str, value: Any) -> float:
    """The slow path of ``log``: ints in range, numpy scalars; anything else refused."""
    if type(value) is int and -_INT64 <= value < _INT64:
        return float(value)
    return to_metric_float(name, value)


def _number_list(name: str, value: Sequence[Any]) -> list[float]:
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise InvalidArgument(f"log_list({name!r}) needs a list of numbers.")
    values = [to_metric_float(name, v) for v in value]
    if len(values) > MAX_METRIC_CELLS:
        raise InvalidArgument(f"List {name!r} has more than {MAX_METRIC_CELLS} values.")
    return values


def _cell(name: str, value: Any) -> Any:
    """A table cell: a number (NaN/inf kept), a string or None."""
    if value is None:
        return value
    if isinstance(value, str):
        return check_cell_text(name, value)
    try:
        return to_metric_float(name, value)
    except ValidationError:
        raise InvalidArgument(
            f"Table {name!r} cells must be numbers, strings or None, got {type(value).__name__}."
        ) from None


#: A step is stored as a 64-bit integer.
_STEP_MIN, _STEP_MAX = -(2**63), 2**63 - 1


def _check_step(name: str, step: Any) -> int:
    message = f"step for metric {name!r} must be an integer, got {step!r}."
    if isinstance(step, bool):
        raise InvalidArgument(message)
    try:
        as_int = int(step)
    except (TypeError, ValueError, OverflowError):  # OverflowError: float('inf')
        raise InvalidArgument(message) from None
    if as_int != step:
        raise InvalidArgument(message)
    if not _STEP_MIN <= as_int <= _STEP_MAX:
        raise InvalidArgument(
            f"step for metric {name!r} is {as_int}, beyond what a 64-bit integer holds "
            f"({_STEP_MIN} to {_STEP_MAX})."
        )
    return as_int


def _to_png(path: str, data: bytes) -> bytes:
    """Convert another image format to PNG with matplotlib (needs runyard[image])."""
    try:
        import matplotlib.image as mpimg
        import matplotlib.pyplot as plt
    except ImportError:
        raise InvalidArgument(
            f"{path!r} is not a PNG; install matplotlib (pip install 'runyard[image]') to "
            "convert other image formats."
        ) from None
    import io

    try:
        image = mpimg.imread(path)
    except Exception as exc:
        raise InvalidArgument(f"{path!r} is not an image: {exc}") from exc
    buf = io.BytesIO()
    plt.imsave(buf, image, format="png")
    return buf.getvalue()


def metric_json(value: Any) -> str:
    """JSON for a metric value, NaN and infinities written as strings (JSON has none)."""

    def fix(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        return v

    return json.dumps(fix(value))
