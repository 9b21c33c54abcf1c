"""The port a service listens on: bound by the deploying process, so that a port in use
fails at once and the scoring URI is known before anything starts."""

from __future__ import annotations

import contextlib
import errno
import random
import socket
import time

from runyard.errors import InvalidState

HOST = "127.0.0.1"


def _stable_ports() -> range:
    """Ports to pick a service's from: below the system's ephemeral range, so that no
    outgoing connection takes the port while the service restarts (its URI stays)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as fh:
            low = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(20000, low) if low > 21000 else range(0)


def bind(port: int, wait_s: float = 0.0) -> socket.socket:
    """A listening socket on ``port`` of 127.0.0.1 (0: a free port from
    :func:`_stable_ports`), retrying for ``wait_s`` while the port is in use.

    Raises:
        InvalidState: the port is in use.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return _bind_once(port)
        except InvalidState:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def _bind_once(port: int) -> socket.socket:
    if port == 0:
        candidates = _stable_ports()
        for chosen in random.Random().sample(candidates, min(64, len(candidates))):
            with contextlib.suppress(InvalidState):
                return _bind_once(chosen)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise InvalidState(
                f"Port {port} on {HOST} is in use. Choose another port in "
                "deploy_configuration(port=...), or leave it out for a free one."
            ) from exc
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
