"""Waiting for a condition in a test: one polling loop for every test that needs one."""

from __future__ import annotations

import time


def wait_for(check, timeout=90.0, what="condition", *, poll=0.05):
    """Poll ``check`` every ``poll`` seconds until it gives a true value, and return that
    value; fail the test saying what was awaited after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
