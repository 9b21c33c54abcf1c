"""What the browser tests share besides fixtures: the site under test, a browser tab that
records page errors, and waiting on the page (a module of its own, not conftest, so that
test modules can import it whatever other conftest.py files are loaded)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server_process import ServerProcess


@dataclass
class Site:
    """The server under test, its sample data and where screenshots go."""

    server: ServerProcess
    ids: dict[str, str]
    workspace: Path
    shots: Path
    env: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.server.url + path


@dataclass
class Tab:
    """A browser page that records console errors and uncaught exceptions."""

    page: Any
    errors: list[str]
    context: Any = None


def open_tab(browser: Any, token: str | None) -> Tab:
    """A new browser context (its own storage) whose page holds ``token`` as the UI keeps
    a signed-in token."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    if token:
        context.add_init_script(f"localStorage.setItem('runyard.token', {token!r})")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.set_default_timeout(10_000)
    return Tab(page, errors, context)


def wait_until(tab: Tab, expression: str, timeout_s: float = 10.0) -> None:
    """Wait until the JavaScript ``expression`` is true in the page.

    Polled from here with ``evaluate`` (Playwright's ``wait_for_function`` compiles its
    predicate with ``eval``, which the UI's Content-Security-Policy rightly refuses).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        if tab.page.evaluate(expression):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"Still false after {timeout_s} s: {expression}")
        time.sleep(0.05)
