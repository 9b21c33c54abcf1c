"""Live updates in a real Chromium during a real run, with no reload: a value the run logs
is on the open run page within 2 s, its log lines follow, the runs table's status cell
changes when the run ends, and the run page shows its phase timeline (each status it went
through, with durations) and its snapshot's files with a preview.

The run's script waits for a file before each value, so the test knows when a value is
logged and can time how long the page takes to show it.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
from browser_pages import Site, Tab, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.integration]

WITHIN_S = 2.0  # the bound: on the page within 2 s of being logged

SCRIPT = """
import os, sys, time
from runyard.core import Run

run = Run.get_context()
go = sys.argv[1]


def wait_for(name):
    while not os.path.exists(go + "." + name):
        time.sleep(0.02)


for i in range(3):
    wait_for(str(i))
    print(f"value {i} logged", flush=True)
    run.log("progress", i * 10 + 7)
    run.flush()
wait_for("done")
"""


def _chart_y(tab: Tab, name: str) -> list[float]:
    values: list[float] = tab.page.eval_on_selector(
        f".chart-box[data-title='{name}']", "el => Array.from(el.__uplot.data[1])"
    )
    return values


def _timed(tab: Tab, expression: str, timeout_s: float = 10.0) -> float:
    """Seconds until ``expression`` is true in the page."""
    started = time.monotonic()
    wait_until(tab, expression, timeout_s)
    return time.monotonic() - started


def test_a_running_run_updates_the_open_pages_within_two_seconds_without_reload(
    site: Site, tab: Tab, browser: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from browser_pages import open_tab

    from runyard.core import Environment, Experiment, ScriptRunConfig, Workspace

    for key, value in site.env.items():
        monkeypatch.setenv(key, value)
    src = tmp_path / "src"
    src.mkdir()
    (src / "live.py").write_text(textwrap.dedent(SCRIPT))
    (src / "README.md").write_text("# Live demo\n\nA script that logs when told to.\n")
    go = tmp_path / "go"
    ws = Workspace.get("team", path=str(site.workspace))
    env = Environment("current")
    env.python.user_managed_dependencies = True
    run = Experiment(ws, "live-page").submit(
        ScriptRunConfig(
            source_directory=str(src), script="live.py", arguments=[str(go)], environment=env
        )
    )
    table = open_tab(browser, site.server.token)
    try:
        page = tab.page
        page.goto(site.url(f"/w/team/runs/{run.id}?tab=metrics"))
        page.wait_for_selector("h1 [data-status='Running']", timeout=60_000)
        table.page.goto(site.url("/w/team/experiments/live-page"))
        status_cell = f"[data-run='{run.id}'] [data-column='attr:status']"
        table.page.wait_for_selector(f"{status_cell}:has-text('Running')")
        # Set once; a reload would lose them.
        page.evaluate("window.__notReloaded = true")
        table.page.evaluate("window.__notReloaded = true")

        (go.parent / "go.0").touch()
        single = (
            "Array.from(document.querySelectorAll('table.kv tr'))"
            ".some(r => r.textContent === 'progress7')"
        )
        assert _timed(tab, single) < WITHIN_S
        (go.parent / "go.1").touch()
        drawn = (
            "(() => { const c = document.querySelector(\".chart-box[data-title='progress']\");"
            " const y = c && c.__uplot && c.__uplot.data[1];"
            " return !!y && Array.from(y).includes(17); })()"
        )
        assert _timed(tab, drawn) < WITHIN_S
        assert _chart_y(tab, "progress") == [7, 17]

        page.get_by_role("tab", name="Logs").click()
        page.wait_for_selector("pre.log:has-text('value 1 logged')")
        (go.parent / "go.2").touch()
        in_log = "document.querySelector('pre.log').textContent.includes('value 2 logged')"
        assert _timed(tab, in_log) < WITHIN_S

        (go.parent / "go.done").touch()
        run.wait_for_completion()
        ended = f"document.querySelector(\"{status_cell}\").textContent === 'Completed'"
        assert _timed(table, ended) < WITHIN_S
        assert _timed(tab, "!!document.querySelector(\"h1 [data-status='Completed']\")") < WITHIN_S

        page.get_by_role("tab", name="Overview").click()
        page.wait_for_selector(".timeline li.end[data-phase='Completed']")
        phases = page.eval_on_selector_all(
            ".timeline li[data-phase]", "li => li.map(x => x.dataset.phase)"
        )
        assert phases == ["Queued", "Preparing", "Starting", "Running", "Finalizing", "Completed"]
        durations = page.eval_on_selector_all(
            ".timeline .phase-duration", "s => s.map(x => x.textContent)"
        )
        assert len(durations) == 5 and all(d.endswith("s") for d in durations), durations
        page.screenshot(path=str(site.shots / "run-timeline.png"))

        page.get_by_role("tab", name="Snapshot").click()
        page.get_by_role("button", name="live.py").click()
        page.wait_for_selector(".preview pre.code:has-text('Run.get_context()')")
        page.get_by_role("button", name="README.md").click()
        page.wait_for_selector(".preview pre.code:has-text('A script that logs when told to.')")
        page.screenshot(path=str(site.shots / "run-snapshot.png"))

        assert page.evaluate("window.__notReloaded === true")
        assert table.page.evaluate("window.__notReloaded === true")
        assert tab.errors == [] and table.errors == []
    finally:
        for name in ("0", "1", "2", "done"):
            (go.parent / f"go.{name}").touch()
        if run.get_status() not in ("Completed", "Failed", "Canceled"):
            run.cancel()
        table.context.close()
        ws.close()
