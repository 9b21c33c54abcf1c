"""``python -m runyard.serving.server FOLDER``: serve the service whose files are in FOLDER.

Started by the service's supervisor, which passes the listening socket and a ready pipe
as file descriptors (``RUNYARD_SERVICE_LISTEN_FD``, ``RUNYARD_SERVICE_READY_FD``). Exits
with status 3 when the entry script or its ``init()`` fails (the traceback goes to the
service log and to ``init_error.txt``).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import socket
import sys
import traceback

from runyard.entities.service import ServiceDefinition
from runyard.serving import layout
from runyard.serving.keys import KeyCheck
from runyard.serving.server.http import HttpServer
from runyard.serving.server.scoring import ScoringApp, load_entry_script, swagger_document

ENV_LISTEN_FD = "RUNYARD_SERVICE_LISTEN_FD"
ENV_READY_FD = "RUNYARD_SERVICE_READY_FD"
INIT_FAILED = 3


def main(argv: list[str]) -> int:
    folder = argv[1]
    with open(layout.definition_file(folder), encoding="utf-8") as fh:
        definition = ServiceDefinition.from_dict(json.load(fh))
    sock = socket.socket(fileno=int(os.environ.pop(ENV_LISTEN_FD)))
    ready_fd = int(os.environ.pop(ENV_READY_FD))
    script = os.path.join(layout.source_dir(folder), *definition.entry_script.split("/"))
    try:
        module = load_entry_script(script)
    except BaseException:
        text = traceback.format_exc()
        sys.stderr.write(text)
        with open(layout.init_error_file(folder), "w", encoding="utf-8") as fh:
            fh.write(text)
        return INIT_FAILED
    # What init() built (a model, TensorFlow's modules: hundreds of thousands of objects)
    # lives as long as the server: out of the collector's sight, so that a full collection
    # walks only what requests allocate, not the whole heap (with TensorFlow and Keras
    # loaded: 275,000 objects, a 140 ms pause on the benchmark machine; frozen: none).
    gc.collect()
    gc.freeze()
    keys = KeyCheck(layout.keys_file(folder))
    app = ScoringApp(
        module.run,
        keys,
        swagger_document(definition.name, keys.auth_enabled),
        concurrency=definition.max_concurrent_requests,
    )
    server = HttpServer(app.respond, definition.max_body_bytes)

    def started() -> None:
        os.write(ready_fd, b"ready\n")
        os.close(ready_fd)
        print(f"Scoring server of {definition.name} ready (pid {os.getpid()}).", flush=True)

    async def serve() -> None:
        # SIGTERM (a reload, a redeploy, delete) stops gracefully: no request under way is
        # cut, and connections still queued go to the next server.
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, server.stop)
        await server.serve(sock, started)

    try:
        asyncio.run(serve())
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
