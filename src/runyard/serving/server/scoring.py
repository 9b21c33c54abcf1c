"""What the scoring server answers: ``score.py`` loaded once, each request routed.

Routes (as Azure ML's inference server): ``GET /`` answers ``Healthy``; ``POST /score``
calls ``run(raw_data)`` and answers its result as JSON; ``GET /swagger.json`` describes
the service.

By default ``run`` is called on the server's event loop thread, one call at a time, as
SDK v1's server (one synchronous worker) did: a ``score.py`` may keep per-request state
in globals and be right. With ``concurrency`` above 1 (the deployment's
``replica_max_concurrent_requests``, an opt-in: whether a ``run`` is thread-safe cannot
be detected), calls go to a pool of that many threads, so that requests on different
connections overlap where ``run`` waits or leaves the GIL (TensorFlow, numpy, I/O).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import json
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runyard.serving.batching import policy_of
from runyard.serving.keys import HeldKeys, KeyCheck
from runyard.serving.server.batcher import Batcher

JSON = b"application/json"
TEXT = b"text/plain; charset=utf-8"


@dataclass(frozen=True)
class Response:
    """A response: status code, content type and body."""

    status: int
    content_type: bytes
    body: bytes


def error(status: int, message: str) -> Response:
    """A JSON error response, ``{"error": message}``."""
    return Response(status, JSON, json.dumps({"error": message}).encode())


def load_entry_script(path: str) -> Any:
    """Import the scoring script at ``path`` as module ``score`` and call its ``init()``.

    Raises:
        Whatever the script or its ``init()`` raises; AttributeError when it has no
        ``run``.
    """
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location("score", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Cannot load the entry script {path}.")
    module = importlib.util.module_from_spec(spec)
    sys.modules["score"] = module
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise AttributeError(f"The entry script {path} defines no run(raw_data) function.")
    init = getattr(module, "init", None)
    if callable(init):
        init()
    return module


def _jsonable(value: Any) -> Any:
    # numpy arrays and scalars, the usual return values of a model, without importing numpy.
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


class ScoringApp:
    """Routes requests to ``run``.

    Args:
        run: ``score.py``'s ``run(raw_data)``; marked with ``@batch``, it takes a list of
            bodies and requests are batched (:class:`Batcher`), answered by a future.
        keys: the key check of the scoring route.
        swagger: the service's swagger document.
        concurrency: how many ``run`` calls at once; above 1 they run on a pool of that
            many threads and a request is answered by a future. A batched ``run`` is
            called one batch at a time whatever this says.
    """

    def __init__(
        self,
        run: Callable[[Any], Any],
        keys: KeyCheck | HeldKeys,
        swagger: dict[str, Any],
        concurrency: int = 1,
    ):
        self._run = run
        self._keys = keys
        self._swagger = Response(200, JSON, json.dumps(swagger).encode())
        policy = policy_of(run)
        self.batcher = None if policy is None else Batcher(run, policy, self._encode, self._failure)
        self._pool = (
            concurrent.futures.ThreadPoolExecutor(concurrency, thread_name_prefix="runyard-run")
            if concurrency > 1 and self.batcher is None
            else None
        )

    def close(self) -> None:
        """Stop the thread pool, if any, once the calls under way return."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def respond(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> Response | asyncio.Future[Response]:
        """The response to one request (never raises); a future of it when batched."""
        path = path.split("?", 1)[0]
        if path == "/score":
            if method != "POST":
                return error(405, "Use POST to score: POST /score with the input as the body.")
            if not self._keys.allows(headers.get("authorization")):
                return error(
                    401,
                    "Missing or wrong key: send 'Authorization: Bearer <key>' with a key "
                    "from service.get_keys().",
                )
            return self._score(headers, body)
        if method != "GET":
            return error(405, f"{method} is not allowed on {path}.")
        if path == "/":
            return Response(200, TEXT, b"Healthy")
        if path == "/swagger.json":
            return self._swagger
        return error(404, f"No route {path}: use POST /score, GET / or GET /swagger.json.")

    def _score(self, headers: dict[str, str], body: bytes) -> Response | asyncio.Future[Response]:
        raw: Any = body
        try:
            raw = body.decode("utf-8")
        except UnicodeDecodeError:
            if "json" in headers.get("content-type", "application/json").lower():
                return error(400, "The request body is not UTF-8 text, as JSON must be.")
        if self.batcher is not None:
            return self.batcher.submit(raw)
        if self._pool is not None:
            return asyncio.get_running_loop().run_in_executor(self._pool, self._call, raw)
        return self._call(raw)

    def _call(self, raw: Any) -> Response:
        try:
            result = self._run(raw)
        except Exception as exc:
            return self._failure(exc, raw)
        return self._encode(result)

    @staticmethod
    def _failure(exc: BaseException, raw: Any) -> Response:
        """The response when ``run`` raised ``exc`` on ``raw`` (or returned it)."""
        # The body itself is not JSON (run() parsed it first, as score.py files do): the
        # client's mistake. Told apart from other JSON errors by the document that failed,
        # so the body is parsed once, by run(), not twice.
        if isinstance(exc, json.JSONDecodeError) and (exc.doc is raw or exc.doc == raw):
            return error(400, f"The request body is not valid JSON: {exc}.")
        traceback.print_exception(type(exc), exc, exc.__traceback__)
        return error(500, f"run() raised {type(exc).__name__}: {exc}")

    @staticmethod
    def _encode(result: Any) -> Response:
        try:
            payload = json.dumps(result, default=_jsonable).encode()
        except (TypeError, ValueError) as exc:
            return error(500, f"run() returned a value that is not JSON-serializable: {exc}")
        return Response(200, JSON, payload)


def swagger_document(name: str, auth_enabled: bool) -> dict[str, Any]:
    """A Swagger 2.0 description of the service's routes."""
    document: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": name, "description": f"API of web service {name}", "version": "1.0"},
        "schemes": ["http"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": {
            "/": {
                "get": {
                    "description": "Liveness: answers Healthy.",
                    "responses": {"200": {"description": "Healthy"}},
                }
            },
            "/score": {
                "post": {
                    "description": "Runs score.py's run() on the request body.",
                    "parameters": [{"name": "body", "in": "body", "required": True, "schema": {}}],
                    "responses": {
                        "200": {"description": "run()'s result as JSON"},
                        "400": {"description": "Malformed body"},
                        "401": {"description": "Missing or wrong key"},
                        "413": {"description": "Body too large"},
                        "500": {"description": "run() raised"},
                    },
                }
            },
        },
    }
    if auth_enabled:
        document["securityDefinitions"] = {
            "Bearer": {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "description": "'Bearer <key>' with a key from service.get_keys()",
            }
        }
        document["paths"]["/score"]["post"]["security"] = [{"Bearer": []}]
    return document
