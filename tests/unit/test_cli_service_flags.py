"""``runyard service deploy``'s flags for where a service runs: refused combinations say
what to give instead, before anything is deployed; ``--help`` says where each goes."""

from __future__ import annotations

import pytest
from cli_helpers import invoke, one_error_line

BASE = ("service", "deploy", "-n", "svc", "-m", "m", "--entry-script", "score.py")


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (("--replicas", "2"), "add --compute-target NAME"),
        (("--autoscale-max", "3"), "add --compute-target NAME"),
        (("--compute-target", "c", "--replicas", "2", "--autoscale"), "not both"),
        (("--compute-target", "c", "--replicas", "2", "--autoscale-min", "1"), "not both"),
        (("--local", "--compute-target", "c"), "leave out --compute-target"),
        (("--local", "--cpu-cores", "1"), "--local runs one process on this machine"),
        (("--local", "--auth"), "has no keys"),
        (("--port", "8000"), "--port goes with --local"),
    ],
)
def test_deploy_refuses_flags_that_do_not_go_together(flags, says):
    result = invoke(*BASE, *flags)
    assert says in one_error_line(result, 2)


@pytest.mark.parametrize(
    "flags",
    [("--replicas", "0"), ("--autoscale-min", "0"), ("--autoscale-target-utilization", "150")],
)
def test_deploy_refuses_replica_counts_out_of_range(flags):
    result = invoke(*BASE, "--compute-target", "c", *flags)
    assert result.exit_code == 2
    assert "Invalid value" in result.stderr


def test_deploy_help_says_where_services_run_and_how_replicas_are_set():
    text = invoke("service", "deploy", "--help").stdout
    for flag in (
        "--compute-target",
        "--replicas",
        "--autoscale-min",
        "--autoscale-max",
        "--cpu-cores",
        "--memory-gb",
        "--auth / --no-auth",
        "--json",
    ):
        assert flag in text
    assert "Where it runs:" in text and "--replicas 2 --cpu-cores 0.5" in text
