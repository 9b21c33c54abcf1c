"""The adapters the contract suite runs on: SQLite (a temporary folder), PostgreSQL (a
fresh schema per test on the server at ``RUNYARD_TEST_POSTGRES_URL``), memory, and REST:
one real ``runyard server`` process per test session, with a fresh workspace per test
created through ``POST /api/v1/workspaces`` (select them with ``-k rest`` or ``-m rest``).

Tests take ``store`` (an open store) or ``open_store`` (a callable that opens another
store on the same data: for reopening, and, picklable on the SQL adapters, for child
processes); ``adapter`` names the adapter. ``store_url`` is for the SQL adapter's own tests.

PostgreSQL tests are marked ``postgres``. When the server cannot be reached they fail
under CI (``CI=true``) and are skipped with the reason otherwise.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
import sqlalchemy as sa

from runyard.tracking.memory import MemoryTrackingStore
from runyard.tracking.rest import RestTrackingStore
from runyard.tracking.sql import SqlTrackingStore, sqlite_url
from runyard.tracking.store import TrackingStore
from server_process import ServerProcess, start_server

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

OpenStore = Callable[[], TrackingStore]


def _postgres_base_url() -> sa.URL:
    url = sa.make_url(os.environ.get("RUNYARD_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine]:
    """An autocommit engine on the test server, or a skip/fail saying why there is none."""
    url = _postgres_base_url()
    try:
        engine = sa.create_engine(
            url,
            isolation_level="AUTOCOMMIT",
            poolclass=sa.pool.NullPool,
            connect_args={"connect_timeout": 5},
        )
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # unreachable server, bad credentials, psycopg missing
        reason = (
            f"PostgreSQL is not reachable at {url.render_as_string(hide_password=True)} "
            f"({' '.join(str(getattr(exc, 'orig', exc)).split())[:200]}). Start it or set "
            "RUNYARD_TEST_POSTGRES_URL."
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " CI=true: PostgreSQL tests must run.", pytrace=False)
        pytest.skip(reason)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin: sa.Engine) -> Iterator[str]:
    """A URL whose connections work in a new, empty schema (dropped after the test)."""
    schema = f"runyard_test_{uuid.uuid4().hex[:16]}"
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = postgres_admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with postgres_admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """The database URL of a fresh SQL store, one per adapter."""
    if request.param == "sqlite":
        return sqlite_url(os.path.join(tmp_path, "runyard.db"))
    url: str = request.getfixturevalue("postgres_url")
    return url


class WorkspacePool:
    """Fresh workspaces on a server, created through ``POST /api/v1/workspaces`` a few
    ahead by a background thread: creating one (a database and its migrations) is most of
    a REST contract test's cost, and the server can do it while the previous test runs."""

    AHEAD = 3

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self._url = url
        self._headers = headers
        self._ready: queue.Queue[str | BaseException] = queue.Queue(maxsize=self.AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, name="workspace-pool", daemon=True)
        self._thread.start()

    def _fill(self) -> None:
        with httpx.Client(base_url=self._url, headers=self._headers, timeout=120) as http:
            while not self._stop.is_set():
                name = f"t-{uuid.uuid4().hex[:12]}"
                try:
                    response = http.post("/api/v1/workspaces", json={"name": name})
                    created: str | BaseException = (
                        name
                        if response.status_code == 201
                        else RuntimeError(f"Creating a workspace: {response.text}")
                    )
                except httpx.HTTPError as exc:
                    created = exc
                while not self._stop.is_set():
                    try:
                        self._ready.put(created, timeout=0.2)
                        break
                    except queue.Full:
                        continue

    def take(self) -> str:
        """A fresh workspace's name (waits for one if none is ready)."""
        got = self._ready.get(timeout=120)
        if isinstance(got, BaseException):
            raise got
        return got

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=130)


@pytest.fixture(scope="session")
def rest_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server process for the session's REST contract tests (two workers, no
    write rate limit: every test writes with its administrator's token)."""
    from runyard.core.workspace import Workspace

    root = tmp_path_factory.mktemp("rest-server")
    Workspace.create("served", path=root / "served").close()
    server = start_server(
        str(root / "served"),
        log_dir=str(root),
        extra_args=["--home", str(root / "home"), "--workers", "2", "--write-rate", "0"],
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def rest_workspaces(rest_server: ServerProcess) -> Iterator[WorkspacePool]:
    """Fresh workspaces on the session's server, a few created ahead."""
    pool = WorkspacePool(rest_server.url, rest_server.headers)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        "memory",
        pytest.param("rest", marks=pytest.mark.rest),
    ]
)
def adapter(request: pytest.FixtureRequest) -> str:
    """The name of the adapter a contract test runs on."""
    name: str = request.param
    return name


@pytest.fixture
def open_store(
    adapter: str, request: pytest.FixtureRequest, tmp_path: os.PathLike[str]
) -> OpenStore:
    """Opens a store on the test's data. On the SQL adapters it is picklable, so child
    processes can use it; the memory adapter has one store, which every call returns."""
    if adapter == "memory":
        shared = MemoryTrackingStore()
        return lambda: shared
    if adapter == "rest":
        server: ServerProcess = request.getfixturevalue("rest_server")
        pool: WorkspacePool = request.getfixturevalue("rest_workspaces")
        return functools.partial(
            RestTrackingStore, server.url, workspace=pool.take(), token=server.token
        )
    if adapter == "sqlite":
        url = sqlite_url(os.path.join(tmp_path, "runyard.db"))
    else:
        url = request.getfixturevalue("postgres_url")
    return functools.partial(SqlTrackingStore, url)


@pytest.fixture
def store(open_store: OpenStore) -> Iterator[TrackingStore]:
    opened = open_store()
    yield opened
    opened.close()
