"""Page tokens and read limits shared by every TrackingStore adapter.

A page token is URL-safe base64 of a small JSON document: the adapter's position key
(the last row it returned) and a fingerprint of the query's filters. Tokens are opaque to
callers; a garbled or forged token, or one given with other filters, is refused with
``InvalidArgument`` instead of returning a wrong page or crashing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from runyard.errors import InvalidArgument

#: Runs per page when ``max_results`` is not given, and the most a page may hold.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def query_fingerprint(**filters: Any) -> str:
    """A short digest of a query's filters (order of statuses and tags does not matter)."""
    canonical: dict[str, Any] = {}
    for name, value in filters.items():
        if isinstance(value, dict):
            value = sorted(value.items())
        elif isinstance(value, (list, tuple, set, frozenset)):
            value = sorted(str(getattr(v, "value", v)) for v in value)
        canonical[name] = value
    text = json.dumps(canonical, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_token(key: int, fingerprint: str) -> str:
    """The token of the page that starts after position ``key`` of the query."""
    text = json.dumps({"k": key, "q": fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_token(token: str, fingerprint: str) -> int:
    """The position key in ``token``.

    Raises:
        InvalidArgument: the token is not one a store gave out, or was given out for a
            query with other filters.
    """
    try:
        if not isinstance(token, str) or not token or len(token) > 200:
            raise ValueError("wrong length or type")
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
        key, found = data["k"], data["q"]
        if type(key) is not int or key < 0 or not isinstance(found, str):
            raise ValueError("wrong fields")
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidArgument(
            f"Page token {str(token)[:40]!r} is not one this store gave out. Start again "
            "without page_token and pass on the next_page_token each page returns."
        ) from exc
    if found != fingerprint:
        raise InvalidArgument(
            "The page token was given out for a listing with other filters; pass the same "
            "filters with each page, or start again without page_token."
        )
    return key


def check_max_results(max_results: int) -> int:
    """``max_results`` if it is a page size in 1..MAX_PAGE_SIZE, else InvalidArgument."""
    if type(max_results) is not int or not 1 <= max_results <= MAX_PAGE_SIZE:
        raise InvalidArgument(
            f"max_results must be a whole number from 1 to {MAX_PAGE_SIZE}, got {max_results!r}."
        )
    return max_results


def check_read_limits(after_seq: int, max_points: int | None) -> None:
    """Refuse an ``after_seq`` or ``max_points`` that ``read_metrics`` cannot honour."""
    if type(after_seq) is not int or after_seq < 0:
        raise InvalidArgument(
            f"after_seq must be a whole number >= 0 (0 reads from the start; then the "
            f"last_seq of the previous read), got {after_seq!r}."
        )
    if max_points is not None and (type(max_points) is not int or max_points < 3):
        raise InvalidArgument(
            f"max_points must be a whole number >= 3 (each bucket keeps its lowest, highest "
            f"and last value), got {max_points!r}."
        )


#: The most runs one ``read_metrics_many`` call reads (a chart's lines).
MAX_RUNS_PER_READ = 1000


def check_many(run_ids: Sequence[str], name: str, max_points: int | None) -> list[str]:
    """The distinct run ids of a ``read_metrics_many`` call, in the order given, once
    its arguments are checked (InvalidArgument otherwise)."""
    if isinstance(run_ids, (str, bytes)) or not hasattr(run_ids, "__iter__"):
        raise InvalidArgument(f"run_ids must be a list of run ids, got {run_ids!r}.")
    wanted = list(dict.fromkeys(run_ids))
    if len(wanted) > MAX_RUNS_PER_READ:
        raise InvalidArgument(
            f"One read takes at most {MAX_RUNS_PER_READ} runs, got {len(wanted)}; read "
            "them in several calls."
        )
    for run_id in wanted:
        if not isinstance(run_id, str) or not run_id:
            raise InvalidArgument(f"A run id must be non-empty text, got {run_id!r}.")
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"The metric name must be non-empty text, got {name!r}.")
    check_read_limits(0, max_points)
    return wanted


def encode_position(position: list[Any], fingerprint: str) -> str:
    """The token of the page that starts after ``position`` (a short JSON list: the sort
    values of the last row a page returned) of the query ``fingerprint`` names."""
    text = json.dumps({"p": position, "q": fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_position(token: str, fingerprint: str) -> list[Any]:
    """The position in ``token``; InvalidArgument as :func:`decode_token` says. The caller
    checks the types of the list's items."""
    try:
        if not isinstance(token, str) or not token or len(token) > 2000:
            raise ValueError("wrong length or type")
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
        position, found = data["p"], data["q"]
        if not isinstance(position, list) or not isinstance(found, str):
            raise ValueError("wrong fields")
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
        raise bad_token(token) from exc
    if found != fingerprint:
        raise InvalidArgument(
            "The page token was given out for a listing with other filters; pass the same "
            "filters with each page, or start again without page_token."
        )
    return position


def bad_token(token: object) -> InvalidArgument:
    """The error for a page token that no store gave out."""
    return InvalidArgument(
        f"Page token {str(token)[:40]!r} is not one this store gave out. Start again "
        "without page_token and pass on the next_page_token each page returns."
    )


def keep_in_buckets(values: Sequence[float], max_points: int) -> list[int]:
    """The indexes of ``values`` (one scalar series in logging order) that downsampling to
    ``max_points`` keeps, ascending: the reference of ``MetricStore.read_metrics``.

    All of them when there are at most ``max_points``. Otherwise value ``i`` of ``n`` goes
    to bucket ``i * B // n`` with ``B = max_points // 3`` buckets, and each bucket keeps
    its lowest and its highest non-NaN value (the earliest on ties) and its last value.
    """
    n = len(values)
    if n <= max_points:
        return list(range(n))
    buckets = max_points // 3
    kept: set[int] = set()
    start = 0
    while start < n:
        bucket = start * buckets // n
        end = start
        while end < n and end * buckets // n == bucket:
            end += 1
        low = high = -1
        for i in range(start, end):
            value = values[i]
            if value != value:  # NaN has no place in an order
                continue
            if low < 0 or value < values[low]:
                low = i
            if high < 0 or value > values[high]:
                high = i
        kept.update(i for i in (low, high, end - 1) if i >= 0)
        start = end
    return sorted(kept)
