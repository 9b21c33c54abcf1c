"""A small HTTP/1.1 server on asyncio: keep-alive, TCP_NODELAY, bounded requests.

Only what a scoring route needs: ``Content-Length`` bodies (chunked uploads get 411),
headers up to 64 KiB (431 above), bodies up to a limit (413 above, answered before the
body is read). It is an ``asyncio.Protocol`` that parses the bytes as they arrive, not
a stream reader: fewer awaits per request is what makes it as fast as uvicorn with
httptools here (``benchmarks/bench_serving.py``). Requests on one connection are
answered in order (pipelining included); the handler runs on the event loop's thread
and answers at once or with a future (a batched request, or a ``run()`` on the scoring
app's thread pool), so connections overlap only as far as the handler lets them.
"""

from __future__ import annotations

import asyncio
import functools
import socket
from collections.abc import Callable
from http import HTTPStatus

from runyard.serving.server.scoring import Response, error

#: ``(method, path, headers, body)``: the response, or a future of it (a batched request).
Handler = Callable[[str, str, dict[str, str], bytes], "Response | asyncio.Future[Response]"]

#: The largest request line plus headers.
MAX_HEAD_BYTES = 64 * 1024
#: How long a stopping server waits for a connection it accepted to send its request.
STOP_GRACE_S = 2.0
_REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}


def encode(response: Response, keep_alive: bool) -> bytes:
    """The response's bytes on the wire."""
    return b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s%s" % (
        response.status,
        _REASONS.get(response.status, b"Unknown"),
        response.content_type,
        len(response.body),
        b"Connection: keep-alive\r\n\r\n" if keep_alive else b"Connection: close\r\n\r\n",
        response.body,
    )


class _Request:
    """A request whose head has been read, waiting for its body."""

    __slots__ = ("headers", "keep_alive", "length", "method", "path")

    def __init__(
        self, method: str, path: str, headers: dict[str, str], length: int, keep_alive: bool
    ) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.length = length
        self.keep_alive = keep_alive


class _Connection(asyncio.Protocol):
    """One client connection: parses requests as bytes arrive and answers each in turn."""

    def __init__(self, handler: Handler, max_body: int, live: set[_Connection]) -> None:
        self._handler = handler
        self._max_body = max_body
        self._live = live
        self._buffer = bytearray()
        self._request: _Request | None = None
        self._transport: asyncio.Transport | None = None
        self._served = 0
        self._closing = False
        #: A request answered later (batched): parsing waits for it, so that answers
        #: keep the order of the requests.
        self._waiting: asyncio.Future[Response] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._live.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Small responses go out at once instead of waiting for Nagle's timer.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._live.discard(self)
        if self._waiting is not None:
            self._waiting.cancel()  # nobody to answer: the batch skips it

    def close_when_idle(self) -> None:
        """Stop after the request under way: at once if idle after serving requests;
        a connection just accepted is answered first (its client is sending)."""
        self._closing = True
        idle = self._served and not self._buffer and self._waiting is None
        if self._transport is not None and idle:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._transport is not None and self._waiting is None:
            if self._request is None:
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(self._buffer) > MAX_HEAD_BYTES:
                        self._fail(error(431, "Request headers are larger than 64 KiB."))
                    return
                head = bytes(self._buffer[:end])
                del self._buffer[: end + 4]
                self._request = self._parse(head)
                if self._request is None:
                    return
            request = self._request
            if len(self._buffer) < request.length:
                return
            body = bytes(self._buffer[: request.length])
            del self._buffer[: request.length]
            self._request = None
            response = self._handler(request.method, request.path, request.headers, body)
            if isinstance(response, asyncio.Future):
                self._waiting = response
                response.add_done_callback(functools.partial(self._answered, request=request))
                return
            if not self._answer(response, request):
                return

    def _answer(self, response: Response, request: _Request) -> bool:
        """Write ``response``; whether the connection stays open for more."""
        self._served += 1
        if self._transport is None:  # the client left while run() ran
            return False
        keep_alive = request.keep_alive and not self._closing
        self._transport.write(encode(response, keep_alive))
        if not keep_alive:
            self._transport.close()
        return keep_alive

    def _answered(self, done: asyncio.Future[Response], *, request: _Request) -> None:
        self._waiting = None
        if done.cancelled():
            return
        if self._answer(done.result(), request) and self._buffer:
            self.data_received(b"")  # requests that came in meanwhile (pipelined)

    def _parse(self, head: bytes) -> _Request | None:
        """The request of ``head``; None (after answering) when it is malformed."""
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self._fail(error(400, "Malformed HTTP request line."))
            return None
        method, path, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                self._fail(error(400, "Malformed HTTP header line."))
                return None
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._fail(error(411, "Send the body with a Content-Length."))
            return None
        try:
            length = int(headers.get("content-length", "0"))
            if length < 0:
                raise ValueError(length)
        except ValueError:
            self._fail(error(400, "Malformed Content-Length."))
            return None
        if length > self._max_body:
            too_big = f"The body has {length} bytes; this service takes at most {self._max_body}."
            self._fail(error(413, too_big))
            return None
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        return _Request(method, path, headers, length, keep_alive)

    def _fail(self, response: Response) -> None:
        """Answer ``response`` and close: what follows on the connection cannot be read."""
        if self._transport is not None:
            self._transport.write(encode(response, False))
            self._transport.close()
            self._transport = None


class HttpServer:
    """Serves ``handler`` on a listening socket until :meth:`stop`.

    Args:
        handler: ``(method, path, headers, body) -> Response``; header names lower-case.
        max_body_bytes: the largest body accepted.
    """

    def __init__(self, handler: Handler, max_body_bytes: int) -> None:
        self._handler = handler
        self._max_body = max_body_bytes
        self._live: set[_Connection] = set()
        self._stop: asyncio.Event | None = None

    def stop(self) -> None:
        """Stop gracefully (call on the server's loop, e.g. from a SIGTERM handler)."""
        if self._stop is not None:
            self._stop.set()

    async def serve(self, sock: socket.socket, started: Callable[[], None]) -> None:
        """Serve on ``sock`` until :meth:`stop`; ``started`` is called once it accepts.

        Stopping stops accepting (connections still queued on the socket wait for whoever
        else holds it: the next scoring server), answers the requests under way with
        ``Connection: close`` and closes idle connections, within :data:`STOP_GRACE_S`.
        """
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await loop.create_server(
            lambda: _Connection(self._handler, self._max_body, self._live), sock=sock
        )
        started()
        await self._stop.wait()
        server.close()
        for connection in list(self._live):
            connection.close_when_idle()
        deadline = loop.time() + STOP_GRACE_S
        while self._live and loop.time() < deadline:
            await asyncio.sleep(0.01)
        for connection in list(self._live):
            connection.abort()
