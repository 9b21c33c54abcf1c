"""``runyard compute list|show|create|delete``: compute targets, through the SDK's
ComputeTarget API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from runyard.cli.context import CliState, json_option, pass_state
from runyard.cli.errors import CommandFailed
from runyard.cli.output import confirm
from runyard.errors import InvalidArgument

if TYPE_CHECKING:
    from runyard.core.compute_target import ComputeTarget


@click.group()
def compute() -> None:
    """Create, list, show and delete compute targets (local slots, Ray clusters)."""


def describe(target: ComputeTarget) -> dict[str, Any]:
    """The JSON of one target: {"name", "type", "state", "nodesBusy", "nodesIdle",
    "runningRuns", "queuedRuns", "config", "warnings", "notes"}."""
    status = target.get_status()
    provisioning = target.config.get("provisioning") or {}
    notes = [str(n) for n in provisioning.get("notes") or []]
    if status.details.get("head"):  # a Ray head Runyard owns, stopped when idle
        notes.append(f"Ray head: {status.details['head']}")
    return {
        "name": target.name,
        "type": target.type,
        "state": status.state,
        "nodesBusy": status.nodes_busy,
        "nodesIdle": status.nodes_idle,
        "runningRuns": status.running_runs,
        "queuedRuns": status.queued_runs,
        "config": target.config,
        # What provisioning could not give as asked (a cluster bigger than this machine).
        "warnings": list(getattr(target, "provisioning_configuration_warnings", None) or []),
        # What a head Runyard owns does when idle, and whether it is stopped now.
        "notes": notes,
    }


@compute.command(
    "list", epilog="\b\nExamples:\n  runyard compute list\n  runyard compute list --json"
)
@json_option
@pass_state
def list_targets(state: CliState) -> None:
    """List compute targets ('local' always exists) with their state.

    JSON: a list of targets (see 'runyard compute show').
    """
    from runyard.core.compute_target import ComputeTarget

    targets = [describe(t) for t in ComputeTarget.list(state.workspace())]
    out = state.output
    if out.json_output:
        out.json(targets)
        return
    out.table(
        ["Name", "Type", "State", "Busy", "Idle", "Running", "Queued"],
        [
            (
                t["name"],
                t["type"],
                t["state"],
                t["nodesBusy"],
                t["nodesIdle"],
                t["runningRuns"],
                t["queuedRuns"],
            )
            for t in targets
        ],
    )


@compute.command(
    epilog="\b\nExamples:\n  runyard compute show local\n  runyard compute show gpucluster --json"
)
@click.argument("name")
@json_option
@pass_state
def show(state: CliState, name: str) -> None:
    """Show a compute target: its configuration, nodes busy/idle and queued runs.

    JSON: {"name", "type", "state", "nodesBusy", "nodesIdle", "runningRuns", "queuedRuns",
    "config", "warnings"}.
    """
    from runyard.core.compute_target import ComputeTarget

    data = describe(ComputeTarget(state.workspace(), name))
    out = state.output
    if out.json_output:
        out.json(data)
        return
    out.fields(
        [
            ("Name", data["name"]),
            ("Type", data["type"]),
            ("State", data["state"]),
            ("Nodes busy", data["nodesBusy"]),
            ("Nodes idle", data["nodesIdle"]),
            ("Running runs", data["runningRuns"]),
            ("Queued runs", data["queuedRuns"]),
            ("Config", "" if data["config"] else "-"),
            # One row per setting that is set, so that nested ones (a Ray head) stay legible.
            *((f"  {k}", v) for k, v in data["config"].items() if v not in (None, {}, [], "")),
            *(("Warning", w) for w in data["warnings"]),
            *(("Note", n) for n in data["notes"]),
        ],
        title=f"Compute target {name}",
    )


_CLUSTER_ONLY = ("vm_size", "min_nodes", "max_nodes", "idle_seconds", "address")


@compute.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard compute create cpu2 --type local --max-concurrent-runs 2\n"
        "  runyard compute create gpucluster --type cluster --vm-size STANDARD_NC6 \\\n"
        "      --max-nodes 4\n"
        "  runyard compute create shared --type cluster --address http://head:8265 \\\n"
        "      --vm-size cpu-4"
    )
)
@click.argument("name")
@click.option(
    "--type",
    "kind",
    type=click.Choice(["local", "cluster"], case_sensitive=False),
    required=True,
    help="local: processes on this machine. cluster: a Ray cluster (AmlCompute).",
)
@click.option(
    "--max-concurrent-runs",
    type=click.IntRange(min=1),
    help="local: runs at once; the others wait, Queued.",
)
@click.option("--vm-size", help="cluster: the node shape, e.g. STANDARD_NC6, cpu-4.")
@click.option("--min-nodes", type=click.IntRange(min=0), help="cluster: nodes kept up.")
@click.option("--max-nodes", type=click.IntRange(min=1), help="cluster: at most this many nodes.")
@click.option(
    "--idle-seconds",
    type=click.IntRange(min=0),
    help="cluster: idle time before a node is scaled down.",
)
@click.option(
    "--address",
    help="cluster: attach to the Ray cluster whose dashboard (job API) is at this URL, e.g. "
    "http://head:8265; without it a Ray head is started on this machine.",
)
@click.option(
    "--wait/--no-wait", default=True, show_default=True, help="Wait until provisioning ends."
)
@json_option
@pass_state
def create(
    state: CliState,
    name: str,
    kind: str,
    max_concurrent_runs: int | None,
    vm_size: str | None,
    min_nodes: int | None,
    max_nodes: int | None,
    idle_seconds: int | None,
    address: str | None,
    wait: bool,
) -> None:
    """Create compute target NAME.

    JSON: the target (see 'runyard compute show').
    """
    from runyard.core.compute_target import ComputeTarget

    config: Any
    if kind.lower() == "local":
        from runyard.core.compute_target import LocalCompute

        given = [
            "--" + opt.replace("_", "-")
            for opt, value in zip(
                _CLUSTER_ONLY, (vm_size, min_nodes, max_nodes, idle_seconds, address), strict=True
            )
            if value is not None
        ]
        if given:
            raise InvalidArgument(
                f"{', '.join(given)}: only for --type cluster; a local target takes "
                "--max-concurrent-runs."
            )
        config = LocalCompute.provisioning_configuration(max_concurrent_runs=max_concurrent_runs)
    else:
        if max_concurrent_runs is not None:
            raise InvalidArgument(
                "--max-concurrent-runs applies to --type local; a cluster runs as many as "
                "its nodes hold (see --max-nodes)."
            )
        from runyard.core.compute import AmlCompute

        options: dict[str, Any] = {
            "vm_size": vm_size,
            "min_nodes": min_nodes,
            "max_nodes": max_nodes,
            "idle_seconds_before_scaledown": idle_seconds,
            "address": address,
        }
        config = AmlCompute.provisioning_configuration(
            **{k: v for k, v in options.items() if v is not None}
        )
    out = state.output
    target = ComputeTarget.create(state.workspace(), name, config)
    if wait:
        # A local target is ready at once; a cluster's provisioning steps are worth seeing.
        target.wait_for_completion(show_output=kind.lower() == "cluster" and not out.json_output)
    data = describe(target)
    if out.json_output:
        out.json(data)
    else:
        out.line(f"Compute target {name!r} ({data['type']}): {data['state']}")


@compute.command(epilog="\b\nExamples:\n  runyard compute delete gpucluster --yes")
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_state
def delete(state: CliState, name: str, yes: bool) -> None:
    """Delete compute target NAME (a Ray head Runyard started is stopped).

    JSON: {"name", "deleted": true}.
    """
    from runyard.core.compute_target import LOCAL_TARGET, ComputeTarget

    target = ComputeTarget(state.workspace(), name)
    # 'local' cannot be deleted: let delete() say so rather than ask first.
    if not yes and name != LOCAL_TARGET and not confirm(f"Delete compute target {name!r}?"):
        raise CommandFailed(f"Compute target {name!r} not deleted: not confirmed. Pass --yes.")
    target.delete()
    out = state.output
    if out.json_output:
        out.json({"name": name, "deleted": True})
    else:
        out.line(f"Deleted compute target {name!r}")
