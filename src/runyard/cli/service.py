"""``runyard service deploy|list|show|logs|keys|delete``: web services of registered models."""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Any

import click

from runyard.cli.context import CliState, json_option, pass_state
from runyard.cli.errors import CommandFailed
from runyard.cli.output import Output, confirm, format_pairs, format_time
from runyard.cli.parsing import parse_model_id, parse_pairs

if TYPE_CHECKING:
    from runyard.core.webservice import Webservice


@click.group()
def service() -> None:
    """Deploy registered models as web services; list, inspect, call keys, delete."""


@service.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard service deploy -n iris-svc -m iris:1 --entry-script score.py \\\n"
        "      --source-directory ./app --conda-file myenv.yml --auth\n"
        "  runyard service deploy -n iris-local -m iris --entry-script score.py \\\n"
        "      --current-python --local --port 8890\n"
        "  runyard service deploy -n iris-aks -m iris --entry-script score.py \\\n"
        "      --compute-target cpucluster --replicas 2 --cpu-cores 0.5\n"
        "  runyard service deploy -n iris-auto -m iris --entry-script score.py \\\n"
        "      --compute-target cpucluster --autoscale-min 1 --autoscale-max 4\n"
        "\b\nWhere it runs:\n"
        "  (default)             an ACI service: one scoring server on this machine\n"
        "  --local               a LocalWebservice on this machine (no keys)\n"
        "  --compute-target T    on cluster target T's Ray cluster (Ray Serve): one\n"
        "                        replica (ACI), or with --replicas / --autoscale* an AKS\n"
        "                        service whose replicas the cluster places on its nodes"
    )
)
@click.option("-n", "--name", required=True, help="3-32 lowercase letters, digits and dashes.")
@click.option(
    "-m",
    "--model",
    "models",
    multiple=True,
    required=True,
    metavar="NAME[:VERSION]",
    help="A registered model to serve (repeat); the latest version without :VERSION.",
)
@click.option("--entry-script", required=True, help="The scoring script: init() and run(raw_data).")
@click.option("--source-directory", type=click.Path(file_okay=False), help="Files that ship.")
@click.option("--conda-file", type=click.Path(dir_okay=False), help="The environment's packages.")
@click.option("--environment", metavar="NAME[:VERSION]", help="A registered environment.")
@click.option(
    "--current-python",
    is_flag=True,
    help="Serve with the interpreter running this command, as it is (nothing built).",
)
@click.option("--local", is_flag=True, help="A LocalWebservice (no keys) instead of ACI.")
@click.option("--port", type=int, help="With --local: the port (default: a free one).")
@click.option(
    "--compute-target",
    metavar="TARGET",
    help="Deploy on this cluster compute target's Ray cluster (see 'runyard compute list').",
)
@click.option(
    "--replicas",
    "num_replicas",
    type=click.IntRange(min=1),
    help="AKS: this many replicas, fixed (needs --compute-target).",
)
@click.option(
    "--autoscale",
    is_flag=True,
    help="AKS: autoscaled replicas (1 to 10 unless --autoscale-min or --autoscale-max say).",
)
@click.option(
    "--autoscale-min", type=click.IntRange(min=1), help="AKS: the fewest replicas (autoscaled)."
)
@click.option(
    "--autoscale-max", type=click.IntRange(min=1), help="AKS: the most replicas (autoscaled)."
)
@click.option(
    "--autoscale-target-utilization",
    type=click.IntRange(1, 100),
    metavar="PERCENT",
    help="AKS: the busy share of a replica autoscaling aims at (default 70).",
)
@click.option(
    "--cpu-cores",
    type=float,
    help="CPUs per replica (ACI here: whole CPUs by affinity; on a cluster: Ray's reservation).",
)
@click.option(
    "--memory-gb",
    type=float,
    help="Memory per replica (ACI here: restarted above it; on a cluster: Ray's reservation).",
)
@click.option(
    "--auth/--no-auth",
    default=None,
    help="Require a key (two are generated). Default: off for ACI, on for AKS (as SDK v1).",
)
@click.option(
    "--max-concurrent-requests",
    type=int,
    help="run() calls at once, on threads (default 1): only for a thread-safe run().",
)
@click.option("--description", help="What the service is.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A tag (repeat).")
@click.option("--overwrite", is_flag=True, help="Replace a service of that name.")
@click.option("--no-wait", is_flag=True, help="Return without waiting for Healthy.")
@json_option
@pass_state
def deploy(
    state: CliState,
    name: str,
    models: tuple[str, ...],
    entry_script: str,
    source_directory: str | None,
    conda_file: str | None,
    environment: str | None,
    current_python: bool,
    local: bool,
    port: int | None,
    compute_target: str | None,
    num_replicas: int | None,
    autoscale: bool,
    autoscale_min: int | None,
    autoscale_max: int | None,
    autoscale_target_utilization: int | None,
    cpu_cores: float | None,
    memory_gb: float | None,
    auth: bool | None,
    max_concurrent_requests: int | None,
    description: str | None,
    tags: tuple[str, ...],
    overwrite: bool,
    no_wait: bool,
) -> None:
    """Deploy models as a web service (on this machine, or on a cluster target's Ray
    cluster) and wait until it is Healthy.

    JSON: the service (see 'runyard service show'), with "computeTarget" and, for an AKS
    service, "replicas" (running now).
    """
    from runyard.core import Environment
    from runyard.core.model import InferenceConfig, Model
    from runyard.errors import InvalidArgument

    scaled = autoscale or any(
        v is not None for v in (autoscale_min, autoscale_max, autoscale_target_utilization)
    )
    aks = scaled or num_replicas is not None
    if sum(map(bool, (conda_file, environment, current_python))) > 1:
        raise InvalidArgument("Give at most one of --conda-file, --environment, --current-python.")
    if port is not None and not local:
        raise InvalidArgument("--port goes with --local; an ACI service gets a free port.")
    if local and auth:
        raise InvalidArgument("A --local service has no keys; leave out --auth or --local.")
    if local and (compute_target or aks or cpu_cores is not None or memory_gb is not None):
        raise InvalidArgument(
            "--local runs one process on this machine: leave out --compute-target, "
            "--replicas, --autoscale*, --cpu-cores and --memory-gb, or leave out --local."
        )
    if num_replicas is not None and scaled:
        raise InvalidArgument(
            "Give --replicas N (a fixed number) or --autoscale/--autoscale-min/--autoscale-max "
            "(autoscaled), not both."
        )
    if aks and not compute_target:
        raise InvalidArgument(
            "Replicas (--replicas, --autoscale*) run on a Ray cluster: add --compute-target "
            "NAME, a cluster compute target ('runyard compute list' shows them)."
        )
    ws = state.workspace()
    env = None
    if environment:
        env_name, _, version = environment.partition(":")
        env = Environment.get(ws, env_name, version or None)
    elif current_python:
        env = Environment("current-python")
        env.python.user_managed_dependencies = True
    inference = InferenceConfig(
        entry_script=entry_script,
        source_directory=source_directory,
        conda_file=conda_file,
        runtime="python" if conda_file else None,
        environment=env,
    )
    config = _deploy_configuration(
        local=local,
        port=port,
        aks=aks,
        num_replicas=num_replicas,
        autoscale_min=autoscale_min,
        autoscale_max=autoscale_max,
        autoscale_target_utilization=autoscale_target_utilization,
        cpu_cores=cpu_cores,
        memory_gb=memory_gb,
        auth=auth,
        max_concurrent_requests=max_concurrent_requests,
        description=description,
        tags=parse_pairs(tags, "--tag") or None,
    )
    found = [Model(ws, n, version=v) for n, v in (parse_model_id(m) for m in models)]
    # The SDK prints its notes (settings used otherwise than v1 did): to stderr, so that
    # stdout holds only the result (--json).
    with contextlib.redirect_stdout(sys.stderr):
        deployed = Model.deploy(
            ws,
            name,
            found,
            inference,
            config,
            overwrite=overwrite,
            deployment_target=compute_target,
        )
    if not no_wait:
        deployed.wait_for_deployment()
    _show(state.output, deployed)


def _deploy_configuration(
    *, local: bool, port: int | None, aks: bool, auth: bool | None, **given: Any
) -> Any:
    """The deployment configuration the flags ask for (SDK v1's defaults for the rest)."""
    from runyard.core.webservice import AciWebservice, AksWebservice, LocalWebservice

    concurrent = given["max_concurrent_requests"]
    if local:
        return LocalWebservice.deploy_configuration(
            port=port, replica_max_concurrent_requests=concurrent
        )
    common = {
        "replica_max_concurrent_requests": concurrent,
        "cpu_cores": given["cpu_cores"],
        "memory_gb": given["memory_gb"],
        "description": given["description"],
        "tags": given["tags"],
    }
    if not aks:
        return AciWebservice.deploy_configuration(auth_enabled=bool(auth), **common)
    return AksWebservice.deploy_configuration(
        num_replicas=given["num_replicas"],
        autoscale_enabled=given["num_replicas"] is None,
        autoscale_min_replicas=given["autoscale_min"],
        autoscale_max_replicas=given["autoscale_max"],
        autoscale_target_utilization=given["autoscale_target_utilization"],
        auth_enabled=auth,
        **common,
    )


@service.command(
    "list",
    epilog="\b\nExamples:\n  runyard service list\n  runyard service list --model iris --json",
)
@click.option("-m", "--model", "model_name", help="Only services serving this model.")
@json_option
@pass_state
def list_services(state: CliState, model_name: str | None) -> None:
    """List web services with their state now.

    JSON: a list of services (see 'runyard service show').
    """
    from runyard.core.webservice import Webservice

    found = Webservice.list(state.workspace(), model_name=model_name)
    for s in found:
        s.update_deployment_state()
    out = state.output
    if out.json_output:
        out.json([s.serialize() for s in found])
        return
    out.table(
        ["Name", "Type", "State", "Models", "Scoring URI"],
        [
            (d["name"], d["computeType"], d["state"], ", ".join(d["models"]), d["scoringUri"])
            for d in (s.serialize() for s in found)
        ],
        empty="No web services match." if model_name else "No web services deployed yet.",
    )


@service.command(epilog="\b\nExamples:\n  runyard service show iris-svc --json")
@click.argument("name")
@json_option
@pass_state
def show(state: CliState, name: str) -> None:
    """Show a web service and its state now.

    JSON: {"name", "computeType", "computeTarget", "state", "scoringUri", "swaggerUri",
    "authEnabled", "models", "description", "tags", "properties", "error", "createdTime",
    "updatedTime"}, and "replicas" (running now) for an AKS service.
    """
    found = _get(state, name)
    found.update_deployment_state()
    _show(state.output, found)


def _show(out: Output, found: Webservice) -> None:
    data = found.serialize()
    replicas = getattr(found, "replicas", None)
    if callable(replicas):
        data["replicas"] = replicas()
    if out.json_output:
        out.json(data)
        return
    error: Any = data["error"] or {}
    out.fields(
        [
            ("Name", data["name"]),
            ("Type", data["computeType"]),
            ("Compute target", data["computeTarget"] or "(this machine)"),
            *([("Replicas", data["replicas"])] if "replicas" in data else []),
            ("State", data["state"]),
            ("Scoring URI", data["scoringUri"]),
            ("Swagger URI", data["swaggerUri"]),
            ("Auth", "on" if data["authEnabled"] else "off"),
            ("Models", ", ".join(data["models"])),
            ("Description", data["description"]),
            ("Tags", format_pairs(data["tags"])),
            ("Created", format_time(data["createdTime"])),
            ("Error", error.get("message")),
        ]
    )


@service.command(epilog="\b\nExamples:\n  runyard service logs iris-svc -n 50")
@click.argument("name")
@click.option("-n", "--lines", "num_lines", type=int, default=5000, show_default=True)
@json_option
@pass_state
def logs(state: CliState, name: str, num_lines: int) -> None:
    """Print the last lines of the service's log (server and score.py output).

    JSON: {"name", "logs"}.
    """
    text = _get(state, name).get_logs(num_lines)
    out = state.output
    if out.json_output:
        out.json({"name": name, "logs": text})
        return
    for line in text.splitlines():
        out.line(line)


@service.command(
    epilog=(
        "\b\nExamples:\n  runyard service keys iris-svc\n"
        "  runyard service keys iris-svc --regen primary"
    )
)
@click.argument("name")
@click.option(
    "--regen", type=click.Choice(["primary", "secondary"]), help="Regenerate this key first."
)
@json_option
@pass_state
def keys(state: CliState, name: str, regen: str | None) -> None:
    """Print the service's keys (an ACI service deployed with --auth).

    JSON: {"name", "primaryKey", "secondaryKey"}.
    """
    found = _get(state, name)
    if regen:
        found.regen_key(regen.capitalize())
    primary, secondary = found.get_keys()
    out = state.output
    if out.json_output:
        out.json({"name": name, "primaryKey": primary, "secondaryKey": secondary})
    else:
        out.line(f"primary    {primary}")
        out.line(f"secondary  {secondary}")


@service.command(epilog="\b\nExamples:\n  runyard service delete iris-svc --yes")
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_state
def delete(state: CliState, name: str, yes: bool) -> None:
    """Stop a web service, free its port and forget it.

    JSON: {"name", "deleted": true}.
    """
    found = _get(state, name)
    if not yes and not confirm(f"Delete web service {name}?"):
        raise CommandFailed(f"Web service {name} not deleted: not confirmed. Pass --yes to skip.")
    found.delete()
    out = state.output
    if out.json_output:
        out.json({"name": name, "deleted": True})
    else:
        out.line(f"Deleted {name}")


def _get(state: CliState, name: str) -> Webservice:
    from runyard.core.webservice import Webservice

    return Webservice(state.workspace(), name)
