"""A real Runyard server in a child process, for tests that go over HTTP.

``start_server(workspace_folder)`` bootstraps an administrator in the server's home (the
token is ``server.token``; ``server.headers`` carries it), runs
``python -m runyard.cli server start`` on a free port, waits for ``/health/ready`` and
answers a :class:`ServerProcess`; ``stop()`` ends it with SIGTERM (then SIGKILL) and keeps
its log for failure messages. Every API call needs the token:
``httpx.get(server.url + "/api/v1/workspaces", headers=server.headers)``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A started server: its URL, process and log file."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: str
    args: list[str] = field(default_factory=list)
    home: str = ""
    token: str | None = None  # the bootstrapped administrator's

    @property
    def headers(self) -> dict[str, str]:
        """The administrator's Authorization header."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def client(self, token: str | None = None) -> httpx.Client:
        """An httpx client on the server's URL sending ``token`` (default: the admin's)."""
        token = token or self.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 15.0) -> int:
        """End the server (``sig`` first, SIGKILL after ``timeout_s``); its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


def start_server(
    workspace: str,
    *,
    log_dir: str,
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
    ready_timeout_s: float = 30.0,
    admin: str | None = "admin",
    public_host: str | None = None,
) -> ServerProcess:
    """Start ``runyard server start`` for ``workspace`` (a folder or config.json) on a
    free port of 127.0.0.1 and wait until it is ready.

    Args:
        extra_args: more ``server start`` options; without ``--home`` the server's home is
            a new folder in ``log_dir``.
        admin: the name of the administrator to bootstrap (None: none; the server then
            refuses every API call).
        public_host: start it with ``--public-url http://PUBLIC_HOST:PORT`` (another name
            of this machine, such as ``localhost``: the URL its runs get).

    Raises:
        RuntimeError: the server exited or was not ready in time (with its log).
    """
    port = free_port()
    log_path = os.path.join(log_dir, f"server-{port}.log")
    extra_args = list(extra_args or [])
    if "--home" not in extra_args:
        extra_args += ["--home", os.path.join(log_dir, f"home-{port}")]
    home = extra_args[extra_args.index("--home") + 1]
    token = _bootstrap_admin(home, extra_args, admin) if admin else None
    if public_host is not None:
        extra_args += ["--public-url", f"http://{public_host}:{port}"]
    args = [
        sys.executable,
        "-m",
        "runyard.cli",
        "-w",
        workspace,
        "server",
        "start",
        "--port",
        str(port),
        *extra_args,
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log_path, args, home, token)
    deadline = time.monotonic() + ready_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.url + "/health/ready", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"The server was not ready in {ready_timeout_s} s:\n{server.log()}")


def _bootstrap_admin(home: str, extra_args: list[str], name: str) -> str:
    from runyard.server.identity import open_identity_store

    database_url = None
    if "--database-url" in extra_args:
        database_url = extra_args[extra_args.index("--database-url") + 1]
    store = open_identity_store(home, database_url)
    try:
        return store.init_admin(name).secret
    finally:
        store.close()
