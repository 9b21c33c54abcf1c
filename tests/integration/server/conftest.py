"""The module-scoped ``team`` fixture: a real server with a user for every role (see
``team_server.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from team_server import Team, start_team


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> Iterator[Team]:
    running = start_team(tmp_path_factory.mktemp("team"))
    try:
        yield running
    finally:
        running.server.stop()
