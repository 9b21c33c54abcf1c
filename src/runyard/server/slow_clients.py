"""Slow clients: a connection that trickles a request's head, or stalls in the middle of a
body, is answered 408 and closed, instead of holding a connection (and, for a body, a
route's worker thread) for as long as it likes.

uvicorn times out idle keep-alive connections but not a request whose head arrives a byte at
a time (the "slowloris" shape), so the server runs uvicorn's httptools protocol with a
deadline for each request's head (:mod:`runyard.server.head_deadline`); a body that stops
arriving is cut by the ASGI middleware here, which gives the route a disconnect, so nothing
half-received is written.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from runyard.server.limits import send_closing_error
from runyard.tracking.wire import error_body

Message = dict[str, Any]


def timeout_body(what: str, timeout_s: float) -> bytes:
    return json.dumps(
        error_body(
            "invalid_argument",
            f"The request's {what} did not arrive within {timeout_s:g} s; nothing was "
            "written. Send it again (on a slow link, in smaller pieces).",
        )
    ).encode()


class BodyStallMiddleware:
    """Cut a request whose body stops arriving for ``timeout_s``: the route sees the client
    disconnect (so it writes nothing half-received) and the client gets 408.

    Args:
        app: the ASGI app it wraps.
        timeout_s: the longest wait for the next piece of a body.
    """

    def __init__(self, app: Any, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        stalled = False
        started = False
        body_done = False

        async def timed_receive() -> Message:
            nonlocal stalled, body_done
            if body_done or stalled:
                # After the body: what comes next is the disconnect the route may wait for
                # (a streaming response); no deadline on that.
                message: Message = await receive()
                return message
            try:
                message = await asyncio.wait_for(receive(), self.timeout_s)
            except asyncio.TimeoutError:
                stalled = True
                return {"type": "http.disconnect"}
            if message["type"] == "http.request" and not message.get("more_body", False):
                body_done = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if stalled:
                return  # the 408 below answers; the route's own answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except Exception:
            if not stalled:
                raise
        if stalled and not started:
            await send_closing_error(send, 408, timeout_body("body", self.timeout_s))
