"""A built environment can reach the workspace its script reports to: Runyard's extras for
the workspace's stores (the PostgreSQL driver, an object store's file system) are installed
into it and are part of its content hash."""

from __future__ import annotations

import pytest

from runyard.config import WorkspaceConfig
from runyard.environments import EnvironmentSpec
from runyard.environments.host import RunyardHost
from runyard.environments.requirements import plan_install, requirement_name
from runyard.errors import EnvironmentBuildError
from runyard.resources import WorkspaceResources

SPEC = EnvironmentSpec(pip_packages=("six",))


@pytest.mark.parametrize(
    ("tracking_uri", "artifact_uri", "extras"),
    [
        (None, None, ()),
        ("postgresql://u:pw@db/runs", "/srv/artifacts", ("postgres",)),
        ("postgresql+psycopg://u@db/runs", "s3://bucket/ws", ("postgres", "s3")),
        ("sqlite:////srv/ws/runyard.db", "abfs://container/ws", ("azure",)),
        ("postgresql://u@db/runs", "gs://bucket/ws", ("gcs", "postgres")),
    ],
)
def test_a_workspace_names_the_extras_its_stores_need(tmp_path, tracking_uri, artifact_uri, extras):
    config = WorkspaceConfig(
        "w",
        path=None if tracking_uri else str(tmp_path),
        tracking_uri=tracking_uri,
        artifact_uri=artifact_uri,
    )
    assert WorkspaceResources(config).required_extras == extras


def test_the_postgres_extra_puts_the_driver_into_the_environment_and_its_hash():
    plain, postgres = RunyardHost(), RunyardHost(extras=("postgres",))
    driver = [r for r in postgres.requirements if requirement_name(r) == "psycopg"]
    assert driver and "extra" not in driver[0]
    assert not [r for r in plain.requirements if requirement_name(r) == "psycopg"]
    assert SPEC.content_hash(plain.context()) != SPEC.content_hash(postgres.context())
    plan = plan_install(SPEC, postgres.requirements, lambda line: None)
    assert driver[0] in plan.requirements_file().splitlines()


def test_an_environment_without_extras_keeps_its_hash():
    # Environments built for embedded workspaces stay valid in every cache.
    assert "runyard_extras" not in RunyardHost().context()
    assert RunyardHost().context() == RunyardHost(extras=()).context()


def test_an_extra_runyard_does_not_declare_is_a_clear_build_error():
    with pytest.raises(EnvironmentBuildError, match="no extra 'nosuch'"):
        RunyardHost(extras=("nosuch",)).context()
