"""How the command line shows things: rich tables for people, JSON for scripts.

Every listing and show command builds plain data (dicts, lists, strings, numbers) and hands
it to an :class:`Output`, which renders it either as a rich table or as JSON with stable
keys (indented on a terminal, one line in a pipe). JSON has no NaN or infinity, so those are
written as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (the same convention
as ``metric_json``).

User values (names, tags, descriptions, paths, error messages) may hold control
characters: an ESC sequence printed raw can clear the screen or retitle the terminal, a
right-to-left override can make a name read backwards. Everything this module prints for
people goes through :func:`escape_control`, which writes those characters as visible
escapes (``\\x1b``, ``\\n``, ``\\u202e``); JSON output escapes them the JSON way, so it
stays valid and exact. A run's log (``run logs``) is the script's own output and is
printed as it is, as ``docker logs`` and ``kubectl logs`` do.

rich is imported on first use so that ``runyard --help`` stays fast.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

#: Width used when stdout is not a terminal (a pipe, a file, a test): wide enough that run
#: ids and paths are not cut, since nothing is lost by printing long lines there.
PIPE_WIDTH = 200

# C0 controls, DEL, C1 controls (8-bit CSI and OSC among them) and the bidi embeddings,
# overrides and isolates that reorder the text around them.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What json.dumps(ensure_ascii=False) leaves raw: it escapes C0 controls itself.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control(text: str) -> str:
    """``text`` with every control character written as a visible escape.

    C0 controls (line breaks and tabs included), DEL, C1 controls and the bidi
    embedding, override and isolate characters become ``\\n``, ``\\t``, ``\\x1b``,
    ``\\u202e``...; everything else, non-ASCII letters included, is kept.

    Args:
        text: A string to show on a terminal.
    """
    return _UNSAFE.sub(_escape_one, text)


def _json_escape_one(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def to_json(value: Any, *, pretty: bool = False) -> str:
    """``value`` as JSON, non-finite floats written as ``"NaN"``, ``"Infinity"``,
    ``"-Infinity"`` (the convention of ``runyard.core.run_metrics.metric_json``).

    Args:
        value: dicts, lists, tuples, strings, numbers, booleans and None.
        pretty: indent by two spaces. Compact output is encoded by the C encoder, several
            times faster on large metric series, so it is what pipes get.

    Raises:
        TypeError: ``value`` holds something JSON cannot represent (a programming error).
    """
    text = json.dumps(
        _finite(value), indent=2 if pretty else None, ensure_ascii=False, allow_nan=False
    )
    # These characters can only stand inside JSON strings, where \\uXXXX means the same.
    return _UNSAFE_IN_JSON.sub(_json_escape_one, text)


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by their names, at any depth."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def format_time(ts: float | None) -> str:
    """A timestamp in local time, to the second, or ``-`` when not set."""
    if ts is None:
        return "-"
    return _dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def iso_time(ts: float | None) -> str | None:
    """A timestamp as ISO 8601 UTC (``2024-05-01T12:00:00Z``), for JSON output."""
    if ts is None:
        return None
    text = _dt.datetime.fromtimestamp(ts, tz=_dt.timezone.utc).isoformat()
    return text.replace("+00:00", "Z")


def format_duration(start: float | None, end: float | None) -> str:
    """``1h 02m 03s``-style duration; ``-`` when the run has not started."""
    if start is None:
        return "-"
    import time

    seconds = max(0, int((end if end is not None else time.time()) - start))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def format_value(value: Any, *, max_items: int = 5) -> str:
    """A metric or detail value, short enough for a table cell.

    Lists show their first and last items and their length; tables (dicts of columns) show
    their columns and row count.
    """
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return f"{value:.6g}"
    if isinstance(value, list):
        if len(value) <= max_items:
            return "[" + ", ".join(format_value(v) for v in value) + "]"
        head = ", ".join(format_value(v) for v in value[:3])
        tail = format_value(value[-1])
        return f"[{head}, ..., {tail}] ({len(value)} values)"
    if isinstance(value, dict):
        if value and all(isinstance(c, list) for c in value.values()):
            rows = max(len(c) for c in value.values())
            return f"table: {', '.join(value)} ({rows} rows)"
        return ", ".join(f"{k}={format_value(v)}" for k, v in value.items()) or "-"
    if value is None:
        return "-"
    return str(value)


def format_pairs(pairs: dict[str, Any]) -> str:
    """Tags or properties as ``k=v, k2=v2`` (``-`` when empty)."""
    return ", ".join(f"{k}={v}" if v != "" else k for k, v in pairs.items()) or "-"


class Output:
    """Renders a command's result on stdout; messages for people go to stderr.

    Args:
        json_output: print JSON documents instead of tables.
    """

    def __init__(self, json_output: bool = False) -> None:
        self.json_output = json_output
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        """The rich console on stdout (created on first use, after CliRunner or a pipe has
        replaced ``sys.stdout``)."""
        if self._console is None:
            from rich.console import Console

            width = None if sys.stdout.isatty() else PIPE_WIDTH
            self._console = Console(highlight=False, width=width, soft_wrap=False)
        return self._console

    def json(self, value: Any) -> None:
        """Print ``value`` as a JSON document: indented on a terminal, one line in a pipe."""
        click.echo(to_json(value, pretty=sys.stdout.isatty()))

    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        title: str | None = None,
        empty: str = "Nothing to show.",
    ) -> None:
        """Print a table; ``empty`` (on stderr) when there are no rows."""
        from rich.table import Table
        from rich.text import Text

        rows = list(rows)
        if not rows:
            self.note(empty)
            return
        table = Table(
            title=Text(escape_control(title)) if title is not None else None,
            title_justify="left",
            header_style="bold",
        )
        for i, name in enumerate(columns):
            # The first column is the identifier people copy: never wrap or cut it.
            table.add_column(Text(escape_control(name)), no_wrap=i == 0, overflow="fold")
        for row in rows:
            # Text() keeps user strings literal: a tag value "[red]" is not rich markup.
            table.add_row(*(Text(escape_control(format_value(cell))) for cell in row))
        self.console.print(table)

    def fields(self, pairs: Sequence[tuple[str, Any]], *, title: str | None = None) -> None:
        """Print ``name: value`` lines as a two-column table without borders."""
        from rich.table import Table
        from rich.text import Text

        table = Table(
            title=Text(escape_control(title)) if title is not None else None,
            title_justify="left",
            show_header=False,
            box=None,
        )
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for name, value in pairs:
            shown = escape_control(format_value(value, max_items=10))
            table.add_row(Text(escape_control(name)), Text(shown))
        self.console.print(table)

    def line(self, text: str) -> None:
        """Print one line of result on stdout (literally, no markup, control characters
        escaped)."""
        click.echo(escape_control(text))

    def note(self, text: str) -> None:
        """A message for a person on stderr (so that stdout stays parseable), control
        characters escaped."""
        click.echo(escape_control(text), err=True)


def confirm(question: str) -> bool:
    """Ask a yes/no question on the terminal (stderr); no answer (end of input) is a no."""
    try:
        return click.confirm(escape_control(question), default=False, err=True)
    except click.Abort:
        return False
