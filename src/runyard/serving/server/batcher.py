"""Gathers scoring requests into batches for a ``run`` marked with ``@batch``.

Everything runs on the scoring server's event loop: a request adds its body and gets a
future; the batch goes to ``run`` when it is full, or ``batch_wait_timeout_s`` after its
first request (on the loop's next turn with a timeout of 0: what arrived meanwhile).
``run`` is called on the loop's thread, as an unbatched ``run`` is, so calls never
overlap and requests that arrive during one wait in their sockets for the next batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from runyard.serving.batching import BatchPolicy

#: ``(result) -> Response`` for a request that ``run`` answered.
Encode = Callable[[Any], Any]
#: ``(exception, body) -> Response`` for a request whose ``run`` raised or returned one.
Fail = Callable[[BaseException, Any], Any]


class Batcher:
    """Calls ``run`` with lists of request bodies.

    Args:
        run: the batched ``run(list_of_bodies) -> list_of_results``.
        policy: its batch size and wait.
        encode: turns one result into the response for its request.
        fail: turns an exception (raised by ``run`` for that body, or returned as its
            result) into its response.
    """

    def __init__(
        self, run: Callable[[list[Any]], Any], policy: BatchPolicy, encode: Encode, fail: Fail
    ) -> None:
        self._run = run
        self._policy = policy
        self._encode = encode
        self._fail = fail
        self._pending: list[tuple[Any, asyncio.Future[Any]]] = []
        self._timer: asyncio.Handle | None = None
        self.batches = 0  # how many calls of run, for the log and the tests

    def submit(self, raw: Any) -> asyncio.Future[Any]:
        """Queue one request body; the future resolves to its response."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((raw, future))
        if len(self._pending) >= self._policy.max_batch_size:
            self._flush()
        elif self._timer is None:
            wait = self._policy.batch_wait_timeout_s
            self._timer = (
                loop.call_later(wait, self._flush) if wait else loop.call_soon(self._flush)
            )
        return future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._pending:
            taken = self._pending[: self._policy.max_batch_size]
            del self._pending[: len(taken)]
            self._call([raw for raw, _ in taken], [future for _, future in taken])

    def _call(self, bodies: list[Any], futures: list[asyncio.Future[Any]]) -> None:
        self.batches += 1
        try:
            results = self._run(bodies)
            if not isinstance(results, (list, tuple)) or len(results) != len(bodies):
                got = (
                    f"{len(results)} results"
                    if isinstance(results, (list, tuple))
                    else (type(results).__name__)
                )
                raise TypeError(
                    f"run() with @batch must return a list with one result per request: "
                    f"got {got} for {len(bodies)} requests"
                )
        except Exception as exc:
            if len(bodies) > 1:
                # One bad body should fail only its own request: each alone, once more.
                for body, future in zip(bodies, futures, strict=True):
                    self._call([body], [future])
                return
            _resolve(futures[0], self._fail(exc, bodies[0]))
            return
        for body, result, future in zip(bodies, results, futures, strict=True):
            if isinstance(result, BaseException):
                _resolve(future, self._fail(result, body))
            else:
                _resolve(future, self._encode(result))


def _resolve(future: asyncio.Future[Any], response: Any) -> None:
    if not future.done():  # a client that left has its future cancelled
        future.set_result(response)
