"""The request body limit: a body larger than ``ServerSettings.max_body_bytes`` is refused
with 413 and the usual error body, before a route reads it whole.

A pure ASGI middleware: it answers at once when ``Content-Length`` says the body is too
large, and counts the bytes of a body sent without one (chunked), stopping the route
when the count passes the limit.
"""

from __future__ import annotations

import json
from typing import Any

from runyard.tracking.wire import error_body

Scope = dict[str, Any]
Message = dict[str, Any]


class BodyTooLarge(Exception):
    """Raised into the route when a body sent without a length passes the limit. A route
    that streams the body may catch it to clean up and answer 413 itself (the artifact
    routes do); otherwise the middleware answers."""


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` (413 ``invalid_argument``).

    Args:
        app: the ASGI app it wraps.
        max_bytes: the largest body accepted.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._refuse(send, declared)
                    return
                break
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message: Message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, received)

    async def _refuse(self, send: Any, size: int) -> None:
        limit_mb = self.max_bytes / (1024 * 1024)
        body = json.dumps(
            error_body(
                "invalid_argument",
                f"The request body ({size} bytes or more) is larger than this server's "
                f"limit of {self.max_bytes} bytes ({limit_mb:g} MB). Send less at a time: "
                "metrics in smaller batches, a large file as a resumable upload in chunks "
                "of at most that size.",
            )
        ).encode()
        await send_closing_error(send, 413, body)


async def send_closing_error(send: Any, status: int, body: bytes) -> None:
    """Answer ``status`` with the JSON error ``body`` and close the connection (what is
    left of the request is not read)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
