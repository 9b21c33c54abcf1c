"""Faults, over real server processes: the server SIGKILLed mid-ingest, the network cut
while a run logs, the database restarted under load, two servers behind one database.

The client reaches the server through a TCP proxy the test controls (``tcp_proxy.py``);
the database restarted is a PostgreSQL of the test's own (``private_postgres.py``), never
the shared one. What landed is read back from the server's database directly, not through
the API under test.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from private_postgres import PrivatePostgres, postgres_bin
from runyard.artifacts.rest import RestArtifactStore
from runyard.core import Experiment, Workspace
from runyard.entities import MetricRecord, RunStatus
from runyard.errors import InvalidState
from runyard.rest_client import ServerUnreachable
from runyard.tracking.outbox import outbox_folder
from runyard.tracking.rest import RestTrackingStore
from runyard.tracking.sql import SqlTrackingStore, sqlite_url
from server_process import ServerProcess, start_server
from tcp_proxy import TcpProxy

#: The full outage of issue 11 ("a client losing the network for 60 s while logging").
FULL_OUTAGE_S = 60.0


@pytest.fixture
def client_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The client's outbox in the test's folder, and a flush that waits for catch-up."""
    outbox = tmp_path / "outbox"
    monkeypatch.setenv("RUNYARD_OUTBOX", str(outbox))
    monkeypatch.setenv("RUNYARD_FLUSH_TIMEOUT_S", "120")
    return outbox


#: The servers here run with the default settings: an interactive run whose client is cut
#: off for 60 s stays Running (the server waits --interactive-timeout, 10 minutes, on a
#: silent interactive run) and completes when its client is back.
SERVER_ENV: dict[str, str] = {}


@pytest.fixture
def sqlite_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerProcess]:
    Workspace.create("team", path=tmp_path / "team").close()
    server = start_server(
        str(tmp_path / "team"),
        log_dir=str(tmp_path),
        extra_args=["--home", str(tmp_path / "h")],
        env=SERVER_ENV,
    )
    monkeypatch.setenv("RUNYARD_TOKEN", str(server.token))
    yield server
    server.stop()


@pytest.fixture
def proxy(sqlite_server: ServerProcess) -> Iterator[TcpProxy]:
    running = TcpProxy(("127.0.0.1", _port(sqlite_server)))
    yield running
    running.close()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL's server programs (/usr/lib/postgresql/*/bin) are not installed.")
    database = PrivatePostgres(bin_dir)
    yield database
    database.close()


def _port(server: ServerProcess) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _client_workspace(tmp_path: Path, url: str) -> Workspace:
    folder = tmp_path / "client" / ".runyard"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(
        json.dumps({"workspace_name": "team", "server": url}), encoding="utf-8"
    )
    return Workspace.from_config(str(tmp_path / "client"))


def _steps(store: SqlTrackingStore, run_id: str, name: str = "x") -> list[int | None]:
    return [m.step for m in store.get_metrics(run_id, name)]


def _log_through(
    run: object, count: int, per_s: float, events: dict[int, Callable[[], None]]
) -> float:
    """Log ``x`` = 0..count-1 (step = value) at about ``per_s`` values a second, calling
    ``events[i]`` before value ``i``; the longest ``run.log`` call, in seconds."""
    log = run.log  # type: ignore[attr-defined]
    longest = 0.0
    start = time.monotonic()
    for i in range(count):
        if i in events:
            events[i]()
        began = time.perf_counter()
        log("x", float(i), step=i)
        longest = max(longest, time.perf_counter() - began)
        ahead = start + (i + 1) / per_s - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    return longest


def test_a_batch_whose_answer_was_lost_is_sent_again_and_stored_once(
    tmp_path: Path, sqlite_server: ServerProcess, proxy: TcpProxy
) -> None:
    store = RestTrackingStore(proxy.url, workspace="team", token=sqlite_server.token)
    try:
        store.create_experiment("lost")
        store.create_run("lost", run_id="r1", status=RunStatus.RUNNING)
        proxy.lose_next_answers(1)
        store.log_metrics([MetricRecord("r1", "x", float(i), step=i) for i in range(10)])
        assert proxy.lost_answers == 1  # the server stored it, the client never heard
        assert [m.step for m in store.get_metrics("r1")] == list(range(10))
    finally:
        store.close()


def test_the_server_sigkilled_mid_ingest_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, client_env: Path, sqlite_server: ServerProcess, proxy: TcpProxy
) -> None:
    restarted: list[ServerProcess] = []

    def kill() -> None:
        sqlite_server.stop(signal.SIGKILL)

    def restart() -> None:
        server = start_server(
            str(tmp_path / "team"),
            log_dir=str(tmp_path),
            extra_args=["--home", sqlite_server.home],
            env=SERVER_ENV,
            admin=None,  # the same home: the same administrator and token
        )
        restarted.append(server)
        proxy.target = ("127.0.0.1", _port(server))

    count = 6000
    ws = _client_workspace(tmp_path, proxy.url)
    try:
        run = Experiment(ws, "killed").start_logging()
        _log_through(run, count, 1500.0, {2000: kill, 3000: restart})
        run.complete()
        assert run.get_status() == "Completed"
    finally:
        ws.close()
        for server in restarted:
            server.stop()
    direct = SqlTrackingStore(sqlite_url(str(tmp_path / "team" / "runyard.db")))
    try:
        assert _steps(direct, run.id) == list(range(count))
    finally:
        direct.close()
    assert not list(client_env.rglob("*.batch.json"))


@pytest.mark.parametrize("outage_s", [4.0, FULL_OUTAGE_S], ids=["short", "full-60s"])
def test_a_client_that_loses_the_network_keeps_logging_and_catches_up(
    tmp_path: Path,
    client_env: Path,
    sqlite_server: ServerProcess,
    proxy: TcpProxy,
    outage_s: float,
) -> None:
    per_s = 200.0
    before, during = int(per_s), int(outage_s * per_s)
    count = before + during + int(per_s)
    waiting: list[int] = []
    folder = outbox_folder(str(client_env), proxy.url, "team")

    def end_outage() -> None:
        waiting.append(len([n for n in os.listdir(folder) if n.endswith(".batch.json")]))
        proxy.restore()

    ws = _client_workspace(tmp_path, proxy.url)
    try:
        run = Experiment(ws, "offline").start_logging()
        longest = _log_through(run, count, per_s, {before: proxy.cut, before + during: end_outage})
        run.flush()
        run.complete()
    finally:
        ws.close()
    # While the network was gone, the values waited on disk, and run.log never waited
    # for the network (one write's retries alone take 2 s).
    assert waiting and waiting[0] > 0
    assert longest < 1.5
    direct = SqlTrackingStore(sqlite_url(str(tmp_path / "team" / "runyard.db")))
    try:
        assert _steps(direct, run.id) == list(range(count))
        assert direct.get_run(run.id).status is RunStatus.COMPLETED
    finally:
        direct.close()
    assert os.listdir(folder) == []


def test_values_left_unsent_at_exit_are_reported_and_sent_by_the_next_process(
    tmp_path: Path,
    client_env: Path,
    sqlite_server: ServerProcess,
    proxy: TcpProxy,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RUNYARD_FLUSH_TIMEOUT_S", "1")
    folder = outbox_folder(str(client_env), proxy.url, "team")
    ws = _client_workspace(tmp_path, proxy.url)
    try:
        run = Experiment(ws, "exits").start_logging()
        run_id = run.id
        ws.resources.stop_heartbeat(run_id)
        proxy.cut()
        for i in range(50):
            run.log("x", float(i), step=i)
        run.flush()  # waits 1 s, then says where the values are
    finally:
        ws.close()
    err = capfd.readouterr().err
    assert "50 metric values" in err and folder in err and "not on server" in err
    assert any(n.endswith(".batch.json") for n in os.listdir(folder))

    proxy.restore()
    monkeypatch.setenv("RUNYARD_FLUSH_TIMEOUT_S", "60")
    later = _client_workspace(tmp_path, proxy.url)  # as the next process would
    try:
        later.resources.metric_buffer.flush()
        assert os.listdir(folder) == []
        assert [m.step for m in later.resources.store.get_metrics(run_id)] == list(range(50))
    finally:
        later.close()


@pytest.mark.postgres
def test_the_database_restarted_under_load_loses_nothing(
    tmp_path: Path,
    client_env: Path,
    private_postgres: PrivatePostgres,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "pg-team.json"
    config.write_text(
        json.dumps(
            {
                "workspace_name": "team",
                "tracking_uri": private_postgres.url,
                "artifact_uri": str(tmp_path / "artifacts"),
            }
        ),
        encoding="utf-8",
    )
    server = start_server(str(config), log_dir=str(tmp_path))
    monkeypatch.setenv("RUNYARD_TOKEN", str(server.token))

    def restart_database() -> None:
        private_postgres.stop()
        time.sleep(2.0)  # logging goes on while the database is away
        private_postgres.start()

    count = 4000
    ws = _client_workspace(tmp_path, server.url)
    try:
        run = Experiment(ws, "db-restart").start_logging()
        _log_through(run, count, 1000.0, {1500: restart_database})
        run.complete()
        assert server.process.poll() is None  # the server rode it out
    finally:
        ws.close()
        server.stop()
    direct = SqlTrackingStore(private_postgres.url)
    try:
        assert _steps(direct, run.id) == list(range(count))
    finally:
        direct.close()


@pytest.mark.postgres
def test_two_servers_behind_one_database_serve_exclusively_and_store_once(
    tmp_path: Path, private_postgres: PrivatePostgres
) -> None:
    admin = sa.create_engine(private_postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("CREATE DATABASE identity")
    admin.dispose()
    identity_url = private_postgres.url.rsplit("/", 1)[0] + "/identity"
    config = tmp_path / "pg-team.json"
    config.write_text(
        json.dumps(
            {
                "workspace_name": "team",
                "tracking_uri": private_postgres.url,
                "artifact_uri": str(tmp_path / "artifacts"),
            }
        ),
        encoding="utf-8",
    )
    shared = ["--database-url", identity_url]
    first = start_server(str(config), log_dir=str(tmp_path), extra_args=shared)
    second = start_server(str(config), log_dir=str(tmp_path), extra_args=shared, admin=None)
    stores = [
        RestTrackingStore(server.url, workspace="team", token=first.token)
        for server in (first, second)
    ]
    try:
        # Both serve the same workspace: what one writes, the other reads.
        stores[0].create_experiment("shared")
        stores[1].create_run("shared", run_id="seen", status=RunStatus.RUNNING)
        assert stores[0].get_run("seen").status is RunStatus.RUNNING

        # Compare-and-set: of four racing starts, two through each server, one wins.
        for k in range(6):
            run_id = f"race{k}"
            stores[k % 2].create_run("shared", run_id=run_id, status=RunStatus.QUEUED)
            outcomes = _race(
                [
                    lambda s=s, r=run_id: s.set_run_status(
                        r, RunStatus.RUNNING, expected=[RunStatus.QUEUED]
                    )
                    for s in stores + stores
                ]
            )
            assert sorted(type(o).__name__ for o in outcomes) == [
                "InvalidState",
                "InvalidState",
                "InvalidState",
                "RunRecord",
            ], outcomes
            assert all(
                not isinstance(o, Exception) or isinstance(o, InvalidState) for o in outcomes
            )

        # Metrics: each batch sent to both servers at once (a client retrying on the other
        # one) lands once; batches through either server all land.
        for k in range(10):
            batch = [
                MetricRecord("seen", "x", float(k * 10 + i), step=k * 10 + i) for i in range(10)
            ]
            outcomes = _race(
                [lambda s=s, b=batch, k=k: s.log_metrics(b, batch_id=f"both-{k}") for s in stores]
            )
            assert outcomes == [None, None]
        steps = [m.step for m in stores[1].get_metrics("seen", "x")]
        assert sorted(steps) == list(range(100))  # once each, whichever server won
    finally:
        for store in stores:
            store.close()
        second.stop()
        first.stop()


def _race(calls: list[Callable[[], object]]) -> list[object]:
    """Start ``calls`` together on threads; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def go(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = calls[i]()
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_a_log_append_whose_answer_was_lost_is_written_once(
    sqlite_server: ServerProcess, proxy: TcpProxy
) -> None:
    store = RestArtifactStore(
        proxy.url, "team", token=sqlite_server.token, retries=0, retry_wait_s=0.05
    )
    try:
        store.append_bytes(b"one\n", "logs/driver.txt")
        proxy.lose_next_answers(1)
        with pytest.raises(ServerUnreachable):  # no retry left: the caller hears of it
            store.append_bytes(b"two\n", "logs/driver.txt")
        # ... and sends it again with what came since, as a run's log streamer does.
        store.append_bytes(b"two\nthree\n", "logs/driver.txt")
        assert proxy.lost_answers == 1
        assert store.read_bytes("logs/driver.txt") == b"one\ntwo\nthree\n"
    finally:
        store.close()
    retrying = RestArtifactStore(proxy.url, "team", token=sqlite_server.token)
    try:
        proxy.lose_next_answers(1)
        retrying.append_bytes(b"four\n", "logs/driver.txt")  # sent again by the store
        assert retrying.read_bytes("logs/driver.txt") == b"one\ntwo\nthree\nfour\n"
    finally:
        retrying.close()


def test_an_append_at_an_offset_that_does_not_fit_the_file_is_refused(
    sqlite_server: ServerProcess,
) -> None:
    with sqlite_server.client() as http:
        url = "/api/v1/workspaces/team/artifacts/logs/x.txt/append"
        assert http.post(url, params={"offset": 0}, content=b"abc").status_code == 204
        assert http.post(url, params={"offset": 0}, content=b"abcd").status_code == 204
        refused = [
            http.post(url, params={"offset": 9}, content=b"z"),  # past the end
            http.post(url, params={"offset": 1}, content=b"XY"),  # other bytes there
        ]
        assert [r.status_code for r in refused] == [409, 409]
        assert "another writer" in refused[1].json()["error"]["message"]
        assert http.post(url, params={"offset": -1}, content=b"z").status_code == 400
        got = http.get("/api/v1/workspaces/team/artifacts/logs/x.txt")
        assert got.content == b"abcd"
