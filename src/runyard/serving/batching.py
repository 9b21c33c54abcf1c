"""Request batching for scoring scripts that gain from it (opt-in).

A ``score.py`` written for SDK v1 has ``run(raw_data)``, called once per request, and
keeps working unchanged. A model that scores many rows for about the price of one (a
neural network's ``predict``) can take the requests that arrive together in one call::

    from runyard.serving import batch

    @batch(max_batch_size=32, batch_wait_timeout_s=0.002)
    def run(raw_data_batch):            # a list of request bodies
        rows = [json.loads(raw)["data"] for raw in raw_data_batch]
        ...
        return [result_1, result_2, ...]  # one result per body, in order

The scoring server then gathers up to ``max_batch_size`` requests, waiting at most
``batch_wait_timeout_s`` after the first one (requests that arrive while ``run`` is busy
make the next batch at once). Each request still gets its own answer: its result as
JSON, or 500 when its result is an exception. When ``run`` raises for a whole batch,
each request of it is tried again alone, so that one bad body fails only its own request.

Called directly (outside a service), the decorated ``run`` is the plain function.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])
#: The attribute that marks a batched ``run``.
ATTRIBUTE = "__runyard_batch__"


@dataclass(frozen=True)
class BatchPolicy:
    """How a batched ``run`` is called.

    Attributes:
        max_batch_size: The most requests in one call.
        batch_wait_timeout_s: The longest a request waits for others to join it.
    """

    max_batch_size: int = 32
    batch_wait_timeout_s: float = 0.002


def batch(
    _func: F | None = None, *, max_batch_size: int = 32, batch_wait_timeout_s: float = 0.002
) -> Any:
    """Mark ``run`` as taking a list of request bodies and returning a list of results.

    Usable bare (``@batch``) or with arguments (``@batch(max_batch_size=16)``).

    Raises:
        ValueError: ``max_batch_size`` is not a whole number from 1 to 4096, or
            ``batch_wait_timeout_s`` is not from 0 to 10 seconds.
    """
    if isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int):
        raise ValueError(f"max_batch_size must be a whole number, got {max_batch_size!r}.")
    if not 1 <= max_batch_size <= 4096:
        raise ValueError(f"max_batch_size must be from 1 to 4096, got {max_batch_size}.")
    if isinstance(batch_wait_timeout_s, bool) or not isinstance(batch_wait_timeout_s, (int, float)):
        raise ValueError(f"batch_wait_timeout_s must be seconds, got {batch_wait_timeout_s!r}.")
    if not 0 <= batch_wait_timeout_s <= 10:
        raise ValueError(
            f"batch_wait_timeout_s must be from 0 to 10 seconds, got {batch_wait_timeout_s}."
        )
    policy = BatchPolicy(max_batch_size, float(batch_wait_timeout_s))

    def mark(func: F) -> F:
        try:
            setattr(func, ATTRIBUTE, policy)
        except AttributeError:  # a bound method or a callable object: mark a wrapper
            wrapped = functools.wraps(func)(lambda *args, **kwargs: func(*args, **kwargs))
            setattr(wrapped, ATTRIBUTE, policy)
            return cast(F, wrapped)
        return func

    return mark(_func) if _func is not None else mark


def policy_of(run: Callable[..., Any]) -> BatchPolicy | None:
    """The batch policy ``run`` was marked with, or None for a one-request ``run``."""
    found = getattr(run, ATTRIBUTE, None)
    return found if isinstance(found, BatchPolicy) else None
