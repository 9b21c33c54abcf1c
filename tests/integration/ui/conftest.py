"""Fixtures of the browser tests: one real server process over a sample workspace and
one real Chromium (Debian's /usr/bin/chromium, driven by Playwright; never a downloaded
browser build) for each test module."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_pages import Site, Tab, open_tab
from ui_sample_data import make_sample_workspace

from server_process import start_server

CHROMIUM = os.environ.get("RUNYARD_TEST_CHROMIUM", "/usr/bin/chromium")
DIST = Path(__file__).resolve().parents[3] / "src" / "runyard" / "server" / "ui" / "dist"
#: Set to a folder (docs/screenshots) to keep the pages' screenshots there.
SCREENSHOTS = os.environ.get("RUNYARD_UI_SCREENSHOTS")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if "/tests/integration/ui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not (DIST / "index.html").is_file():
        pytest.fail(f"The web UI is not built in {DIST}: run bash scripts/setup (needs npm).")
    root = tmp_path_factory.mktemp("ui-site")
    env = {"RUNYARD_HOME": str(root / "home"), "RUNYARD_SCRATCH": str(root / "scratch")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the sample data is written with the same home as the server's
    try:
        ids = make_sample_workspace(root / "ws")
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    server = start_server(
        str(root / "ws"), log_dir=str(root), extra_args=["--home", str(root / "home")], env=env
    )
    shots = Path(SCREENSHOTS) if SCREENSHOTS else root / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    try:
        yield Site(server, ids, root / "ws", shots, env)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"No Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def tab(browser: Any, site: Site) -> Iterator[Tab]:
    """A page signed in as the server's administrator."""
    opened = open_tab(browser, site.server.token)
    try:
        yield opened
    finally:
        opened.context.close()
