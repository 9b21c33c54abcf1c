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
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
import sqlalchemy as sa

from runyard.tracking.memory import MemoryTrackingStore
from runyard.tracking.rest import RestTrackingStore
from runyard.tracking.sql import SqlTrackingStore, sqlite_url
from runyard.tracking.store import TrackingStore

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


@pytest.fixture(scope="session")
def rest_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of one real server process for the session's REST contract tests."""
    from runyard.core.workspace import Workspace
    from server_process import start_server

    root = tmp_path_factory.mktemp("rest-server")
    Workspace.create("served", path=root / "served").close()
    server = start_server(
        str(root / "served"), log_dir=str(root), extra_args=["--home", str(root / "home")]
    )
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def rest_workspace(rest_server: str) -> str:
    """A fresh, empty workspace on the session's server, created through the API."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    response = httpx.post(f"{rest_server}/api/v1/workspaces", json={"name": name}, timeout=60)
    assert response.status_code == 201, response.text
    return name


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
        url: str = request.getfixturevalue("rest_server")
        workspace: str = request.getfixturevalue("rest_workspace")
        return functools.partial(RestTrackingStore, url, workspace=workspace)
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
