"""The web UI in a real Chromium against a real server: every page loads with no console
errors, the runs table sorts and filters on the server, a chart draws the logged values
and refines them on zoom, live logs advance during a real run, compare takes two runs."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from browser_pages import Site, Tab, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.integration]

#: Each page, the element that shows it has its data, and its screenshot's name.
PAGES = [
    ("/w/team", "text=mnist", "experiments"),
    ("/w/team/experiments/mnist", "[data-run='mnist_012']", "runs"),
    ("/w/team/runs/mnist_001", "text=Timeline", "run-overview"),
    ("/w/team/runs/mnist_001?tab=metrics", ".chart-box[data-drawn]", "run-metrics"),
    ("/w/team/runs/mnist_001?tab=logs", "pre.log:has-text('epoch 1')", "run-logs"),
    ("/w/team/runs/mnist_001?tab=files", "text=outputs/", "run-files"),
    ("/w/team/compare?runs=mnist_002,mnist_003,mnist_005,mnist_008", "canvas.parcoords", "compare"),
    ("/w/team/models", "text=digits", "models"),
    ("/w/team/compute", "text=Web services", "compute"),
]


def _shot(tab: Tab, site: Site, name: str) -> None:
    tab.page.screenshot(path=str(site.shots / f"{name}.png"))


def test_every_page_loads_with_its_data_and_no_console_errors(site: Site, tab: Tab) -> None:
    for path, ready, name in PAGES:
        tab.page.goto(site.url(path))
        tab.page.wait_for_selector(ready)
        _shot(tab, site, name)
        assert tab.errors == [], f"{path}: {tab.errors}"
    tab.page.goto(site.url("/w/team/runs/mnist_001?tab=files"))
    tab.page.get_by_role("button", name="outputs/").click()
    tab.page.get_by_role("button", name="config.json").click()
    tab.page.wait_for_selector("pre.code:has-text('\"classes\": 10')")  # JSON preview
    tab.page.goto(site.url("/w/team/no-such-page"))
    tab.page.wait_for_selector("text=No page at this address")
    assert tab.errors == []


def _visible_runs(tab: Tab) -> list[str]:
    return tab.page.eval_on_selector_all(".vrow[data-run]", "rows => rows.map(r => r.dataset.run)")


def _wait_first(tab: Tab, run_id: str) -> None:
    wait_until(tab, f"document.querySelector('.vrow[data-run]')?.dataset.run === {run_id!r}")


def _wait_total(tab: Tab, total: int) -> None:
    tab.page.wait_for_selector(f".count[data-total='{total}']")


def test_runs_table_sorts_and_filters_by_metric_status_and_tag_on_the_server(
    site: Site, tab: Tab
) -> None:
    tab.page.goto(site.url("/w/team/experiments/mnist"))
    _wait_total(tab, 12)
    loss = tab.page.locator("button.sort[data-column='metric:loss:last']")
    loss.click()  # highest final loss first: the last run (its curve is shifted up most)
    tab.page.wait_for_url("**sort=metric%3Aloss%3Alast**")
    _wait_first(tab, "mnist_012")
    loss.click()  # then ascending
    _wait_first(tab, "mnist_001")
    assert _visible_runs(tab)[:3] == ["mnist_001", "mnist_002", "mnist_003"]

    tab.page.get_by_label("Filter column").select_option("metric:accuracy:last")
    tab.page.get_by_label("Filter operator").select_option(">")
    tab.page.get_by_label("Filter value").fill("0.8")
    tab.page.get_by_role("button", name="Add filter").click()
    _wait_total(tab, 4)  # accuracy 0.82, 0.86, 0.90, 0.94
    assert _visible_runs(tab) == ["mnist_009", "mnist_010", "mnist_011", "mnist_012"]
    tab.page.get_by_label("Status").select_option("Failed")
    _wait_total(tab, 1)
    assert _visible_runs(tab) == ["mnist_011"]
    tab.page.get_by_role("button", name="Remove filter accuracy").click()
    _wait_total(tab, 3)
    tab.page.get_by_label("Status").select_option("")
    tab.page.get_by_label("Filter column").select_option("tag:team")
    tab.page.get_by_label("Filter operator").select_option("=")
    tab.page.get_by_label("Filter value").fill("vision")
    tab.page.get_by_role("button", name="Add filter").click()
    _wait_total(tab, 6)
    teams = tab.page.eval_on_selector_all(
        ".vrow[data-run] [data-column='tag:team']", "cells => cells.map(c => c.textContent)"
    )
    assert teams == ["vision"] * 6
    # The page's address keeps the view: reloading it shows the same runs.
    tab.page.reload()
    _wait_total(tab, 6)
    assert tab.errors == []


def _chart_data(tab: Tab, title: str) -> list[list[float | None]]:
    return tab.page.eval_on_selector(
        f".chart-box[data-title='{title}']", "el => el.__uplot.data.map(a => Array.from(a))"
    )


def test_chart_draws_the_logged_values_and_refines_them_on_zoom(site: Site, tab: Tab) -> None:
    tab.page.goto(site.url("/w/team/runs/mnist_003?tab=metrics"))
    tab.page.wait_for_selector(".chart-box[data-title='loss'][data-drawn]")
    x, y = _chart_data(tab, "loss")
    assert x == list(range(50))
    assert y == pytest.approx([1.0 / (step + 1) + 0.02 for step in range(50)])
    # The drawn path goes through the values: uPlot's y pixel of step 10 is loss(10)'s.
    at_10 = tab.page.eval_on_selector(
        ".chart-box[data-title='loss']",
        "el => [el.__uplot.valToPos(el.__uplot.data[1][10], 'y'), el.__uplot.bbox.height]",
    )
    assert 0 < at_10[0] < at_10[1]

    box = tab.page.locator(".chart-box[data-title='loss'] .u-over").bounding_box()
    assert box is not None
    with tab.page.expect_response(
        lambda r: "/ui/series" in r.url and r.request.post_data_json.get("x_min") is not None
    ) as zoom:
        tab.page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2)
        tab.page.mouse.down()
        tab.page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] / 2, steps=5)
        tab.page.mouse.up()
    asked = zoom.value.request.post_data_json
    tab.page.wait_for_selector("text=Reset zoom of loss")
    wait_until(
        tab, "document.querySelector(\".chart-box[data-title='loss']\").__uplot.data[0].length < 50"
    )
    zx, zy = _chart_data(tab, "loss")
    assert zx and asked["x_min"] <= zx[0] and zx[-1] <= asked["x_max"]
    assert zy == pytest.approx([1.0 / (step + 1) + 0.02 for step in zx])
    tab.page.get_by_label("Log scale").check()
    wait_until(
        tab,
        "document.querySelector(\".chart-box[data-title='loss']\").__uplot.scales.y.distr === 3",
    )
    assert tab.errors == []


def test_compare_takes_two_runs_selected_in_the_table(site: Site, tab: Tab) -> None:
    tab.page.goto(site.url("/w/team/experiments/mnist"))
    _wait_total(tab, 12)
    tab.page.get_by_label("Select mnist_002").check()
    tab.page.get_by_label("Select mnist_004").check()
    tab.page.get_by_role("button", name="Compare (2)").click()
    tab.page.wait_for_url("**/compare?runs=mnist_002,mnist_004")
    tab.page.wait_for_selector("canvas.parcoords")
    headers = tab.page.eval_on_selector_all(".diff thead th", "h => h.map(c => c.textContent)")
    assert headers == ["Name", "mnist_002", "mnist_004"]
    lr = tab.page.eval_on_selector_all(
        "tr[data-row='param:lr'] td", "c => c.map(x => x.textContent)"
    )
    assert lr == ["0.01", "0.1"]
    drawn = tab.page.eval_on_selector("canvas.parcoords", "c => c.__drawn.map(d => d.run)")
    assert drawn == ["mnist_002", "mnist_004"]
    tab.page.wait_for_selector(".chart-box[data-title='loss'][data-drawn]")
    _, first, second = _chart_data(tab, "loss")
    assert first[0] == pytest.approx(1.01) and second[0] == pytest.approx(1.03)
    assert tab.errors == []


def test_live_logs_and_metrics_advance_during_a_real_run(
    site: Site, tab: Tab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runyard.core import Environment, Experiment, ScriptRunConfig, Workspace

    for key, value in site.env.items():
        monkeypatch.setenv(key, value)
    src = tmp_path / "src"
    src.mkdir()
    (src / "slow.py").write_text(
        textwrap.dedent(
            """
            import sys, time
            from runyard.core import Run
            run = Run.get_context()
            for i in range(40):
                print(f"tick {i}", flush=True)
                run.log("progress", i)
                run.flush()
                time.sleep(0.25)
            """
        )
    )
    ws = Workspace.get("team", path=str(site.workspace))
    env = Environment("current")
    env.python.user_managed_dependencies = True
    run = Experiment(ws, "live").submit(
        ScriptRunConfig(source_directory=str(src), script="slow.py", environment=env)
    )
    try:
        tab.page.goto(site.url(f"/w/team/runs/{run.id}?tab=logs"))
        tab.page.wait_for_selector("pre.log:has-text('tick 2')", timeout=60_000)
        seen_at = time.monotonic()
        tab.page.wait_for_selector("pre.log:has-text('tick 8')", timeout=10_000)
        # Tick 8 comes 1.5 s of the script's time after tick 2: the tail followed it live.
        assert time.monotonic() - seen_at < 8
        assert tab.page.locator("h1 [data-status]").get_attribute("data-status") == "Running"
        tab.page.get_by_role("tab", name="Metrics").click()
        tab.page.wait_for_selector(".chart-box[data-title='progress'][data-drawn]")
        first = len(_chart_data(tab, "progress")[0])
        chart = "document.querySelector(\".chart-box[data-title='progress']\").__uplot"
        wait_until(tab, f"{chart}.data[0].length > {first + 2}")
        run.wait_for_completion()
        tab.page.get_by_role("tab", name="Logs").click()
        tab.page.wait_for_selector("pre.log:has-text('tick 39')")
        assert tab.errors == []
    finally:
        if run.get_status() not in ("Completed", "Failed", "Canceled"):
            run.cancel()
        ws.close()


def _user_token(site: Site, name: str, role: str) -> str:
    """A new user of the server with ``role`` in workspace team, and a token for them."""
    with site.server.client() as admin:
        admin.post("/api/v1/users", json={"name": name}).raise_for_status()
        admin.put(f"/api/v1/workspaces/team/members/{name}", json={"role": role}).raise_for_status()
        made = admin.post("/api/v1/tokens", json={"name": "ui-test", "user": name})
        made.raise_for_status()
        token: str = made.json()["token"]
        return token


def test_a_reader_sees_no_edit_controls_and_a_contributor_edits(site: Site, browser: Any) -> None:
    from browser_pages import open_tab

    reader = open_tab(browser, _user_token(site, "rita", "reader"))
    contributor = open_tab(browser, _user_token(site, "carl", "contributor"))
    try:
        reader.page.goto(site.url("/w/team/runs/mnist_004"))
        reader.page.wait_for_selector("text=Timeline")
        reader.page.wait_for_selector(".who:has-text('rita (reader)')")
        assert reader.page.locator("form.edit-controls").count() == 0
        assert reader.page.get_by_role("button", name="Set tag").count() == 0
        _shot(reader, site, "run-as-reader")

        contributor.page.goto(site.url("/w/team/runs/mnist_004"))
        contributor.page.wait_for_selector(".who:has-text('carl (contributor)')")
        contributor.page.get_by_label("Tag name").fill("reviewed")
        contributor.page.get_by_label("Tag value").fill("yes")
        contributor.page.get_by_role("button", name="Set tag").click()
        contributor.page.wait_for_selector("text=Tag reviewed set")
        reader.page.reload()
        reader.page.wait_for_selector("table.kv th:has-text('reviewed')")
        assert reader.errors == [] and contributor.errors == []
    finally:
        reader.context.close()
        contributor.context.close()


def test_runyard_ui_prints_a_link_that_signs_in_once(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    from browser_pages import open_tab

    from server_process import free_port

    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runyard.cli",
            "-w",
            str(site.workspace),
            "ui",
            "--no-browser",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "RUNYARD_HOME": str(tmp_path / "home")},
    )
    first = second = None
    try:
        assert process.stdout is not None
        link = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "#login=" not in link:
            link = process.stdout.readline().strip()
        assert link.startswith(f"http://127.0.0.1:{port}/w/team#login="), link
        first = open_tab(browser, None)
        first.page.goto(link)
        first.page.wait_for_selector("a:has-text('mnist')")
        assert "#login" not in first.page.url  # the secret left the address bar at once
        second = open_tab(browser, None)
        second.page.goto(link)  # used once already: the link no longer signs in
        second.page.wait_for_selector("text=Sign in to Runyard")
        assert first.errors == []
    finally:
        for opened in (first, second):
            if opened is not None:
                opened.context.close()
        process.terminate()
        process.wait(15)
        if process.stdout is not None:
            process.stdout.close()
