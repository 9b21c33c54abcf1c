"""A small HTTP/1.1 server on asyncio: keep-alive, TCP_NODELAY, bounded requests.

Only what a scoring route needs: ``Content-Length`` bodies (chunked uploads get 411),
headers up to 64 KiB (431 above), bodies up to a limit (413 above, without reading
them). Requests on one connection are answered in order; the handler runs on the event
loop's thread, so ``run()`` calls never overlap, as in one synchronous worker.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from http import HTTPStatus

from runyard.serving.server.scoring import Response, error

Handler = Callable[[str, str, dict[str, str], bytes], Response]

#: The largest request line plus headers.
MAX_HEAD_BYTES = 64 * 1024


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b"Unknown"


def encode(response: Response, keep_alive: bool) -> bytes:
    """The response's bytes on the wire."""
    return b"".join(
        (
            b"HTTP/1.1 %d %s\r\n" % (response.status, _reason(response.status)),
            b"Content-Type: %s\r\n" % response.content_type,
            b"Content-Length: %d\r\n" % len(response.body),
            b"Connection: keep-alive\r\n\r\n" if keep_alive else b"Connection: close\r\n\r\n",
            response.body,
        )
    )


class HttpServer:
    """Serves ``handler`` on a listening socket.

    Args:
        handler: ``(method, path, headers, body) -> Response``; header names lower-case.
        max_body_bytes: the largest body accepted.
    """

    def __init__(self, handler: Handler, max_body_bytes: int) -> None:
        self._handler = handler
        self._max_body = max_body_bytes

    async def serve(self, sock: socket.socket, started: Callable[[], None]) -> None:
        """Serve on ``sock`` until cancelled; ``started`` is called once it accepts."""
        server = await asyncio.start_server(self._connection, sock=sock, limit=MAX_HEAD_BYTES)
        started()
        async with server:
            await server.serve_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Small responses go out at once instead of waiting for Nagle's timer.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False when the connection is to be closed."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False  # the client closed the connection between requests
        except asyncio.LimitOverrunError:
            writer.write(encode(error(431, "Request headers are larger than 64 KiB."), False))
            return False
        lines = head[:-4].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            writer.write(encode(error(400, "Malformed HTTP request line."), False))
            return False
        method, path, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                writer.write(encode(error(400, "Malformed HTTP header line."), False))
                return False
            headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            writer.write(encode(error(411, "Send the body with a Content-Length."), False))
            return False
        try:
            length = int(headers.get("content-length", "0"))
            if length < 0:
                raise ValueError(length)
        except ValueError:
            writer.write(encode(error(400, "Malformed Content-Length."), False))
            return False
        if length > self._max_body:
            too_big = f"The body has {length} bytes; this service takes at most {self._max_body}."
            writer.write(encode(error(413, too_big), False))
            await writer.drain()
            return False
        body = await reader.readexactly(length) if length else b""
        response = self._handler(method, path, headers, body)
        writer.write(encode(response, keep_alive))
        await writer.drain()
        return keep_alive
