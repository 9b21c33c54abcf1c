"""Structured access logs: one JSON object per answered request, on the server's standard
output, for log shippers (Loki, Elasticsearch, CloudWatch...) and ``jq`` alike.

Each line says when, who (the token's user and id, never its secret), what (method, path,
the query with secrets masked), how it went (status, bytes sent, milliseconds) and from
where. uvicorn's own access log is turned off in its favour: it prints the full query
string, and has no idea who called.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

#: The logger the lines go to (configure it like any other to send them elsewhere).
ACCESS_LOGGER = "runyard.server.access"
#: Query parameters whose values are never logged.
SECRET_PARAMS = frozenset({"token", "access_token", "key", "code", "state", "secret", "password"})


def masked_query(raw: bytes) -> str:
    """The query string with the values of secret-looking parameters replaced by ``***``."""
    if not raw:
        return ""
    try:
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    except ValueError:
        return "<unreadable>"
    return urlencode([(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in pairs])


def configure_access_log(enabled: bool) -> None:
    """Send the access log to standard output, one JSON object per line (or nowhere)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.handlers.clear()
    logger.propagate = False
    if enabled:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    else:
        logger.setLevel(logging.CRITICAL + 1)


class AccessLogMiddleware:
    """Log each HTTP request once it has been answered (or has failed)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.logger = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        sent = 0

        async def recording_send(message: dict[str, Any]) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.logger.info(self._line(scope, status or 500, sent, started))

    @staticmethod
    def _line(scope: dict[str, Any], status: int, sent: int, started: float) -> str:
        client = scope.get("client")
        record: dict[str, Any] = {
            "ts": round(time.time(), 3),
            "method": scope.get("method"),
            "path": scope.get("path"),
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "bytes": sent,
            "client": f"{client[0]}:{client[1]}" if client else None,
        }
        query = masked_query(scope.get("query_string", b""))
        if query:
            record["query"] = query
        credential = scope.get("state", {}).get("credential")
        if credential is not None:
            record["user"] = credential.token.user
            record["token_id"] = credential.token.id
        # ensure_ascii: a path with control characters cannot forge another log line.
        return json.dumps(record, ensure_ascii=True, separators=(",", ":"))
