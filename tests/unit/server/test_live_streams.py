"""LiveStreams: the web UI's event streams hear of a stop through the exit signals the ASGI
server handles, before the server waits for open responses; the server's own handler still
runs, and is put back when the app stops."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from runyard.server.ui.live import LiveStreams


@pytest.fixture
def server_handler() -> Iterator[list[int]]:
    """A stand-in for uvicorn's handler on SIGTERM (records the signals it got)."""
    got: list[int] = []
    original = signal.signal(signal.SIGTERM, lambda sig, frame: got.append(sig))
    try:
        yield got
    finally:
        signal.signal(signal.SIGTERM, original)


def test_an_exit_signal_closes_the_streams_and_reaches_the_servers_handler(
    server_handler: list[int],
) -> None:
    live = LiveStreams()
    before = signal.getsignal(signal.SIGTERM)
    live.hook_exit_signals()
    assert not live.closing
    signal.raise_signal(signal.SIGTERM)
    assert live.closing
    assert server_handler == [signal.SIGTERM]
    live.unhook_exit_signals()
    assert signal.getsignal(signal.SIGTERM) is before


def test_unhooking_leaves_a_handler_installed_after_ours(server_handler: list[int]) -> None:
    live = LiveStreams()
    live.hook_exit_signals()

    def later(sig: int, frame: Any) -> None:
        return None

    signal.signal(signal.SIGTERM, later)
    live.unhook_exit_signals()
    assert signal.getsignal(signal.SIGTERM) is later


def test_outside_the_main_thread_hooking_is_a_no_op_and_close_still_works() -> None:
    live = LiveStreams()
    before = signal.getsignal(signal.SIGTERM)
    worker = threading.Thread(target=live.hook_exit_signals)
    worker.start()
    worker.join()
    assert signal.getsignal(signal.SIGTERM) is before
    live.opened()
    assert live.open_count == 1
    live.close()
    live.finished()
    assert live.closing and live.open_count == 0
