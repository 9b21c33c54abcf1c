"""How errors leave the server: one JSON body per error, with the status the one table
in :mod:`runyard.errors` gives. No traceback, path or token ever goes into a body."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from runyard.errors import HTTP_STATUS, RateLimited, RunyardError, Unauthorized
from runyard.tracking.wire import error_body

log = logging.getLogger("runyard.server")


def install_error_handlers(app: FastAPI) -> None:
    """Turn Runyard errors, validation errors and anything unexpected into error bodies."""

    @app.exception_handler(RunyardError)
    async def runyard_error(request: Request, exc: RunyardError) -> JSONResponse:
        headers = None
        if isinstance(exc, Unauthorized):
            headers = {"WWW-Authenticate": "Bearer"}  # RFC 6750: how to authenticate
        elif isinstance(exc, RateLimited):
            headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
        return JSONResponse(
            error_body(exc.code, exc.message), HTTP_STATUS.get(exc.code, 500), headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()[:5]
        )
        return JSONResponse(error_body("invalid_argument", f"Bad request: {problems}"), 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "invalid_argument"}
        return JSONResponse(
            error_body(code.get(exc.status_code, "runyard_error"), str(exc.detail)),
            exc.status_code,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("Unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("runyard_error", "Internal server error; the server's log has details."),
            500,
        )
