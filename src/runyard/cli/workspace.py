"""``runyard workspace create|show|sweep``."""

from __future__ import annotations

import os
from typing import Any

import click

from runyard.cli.context import CliState, json_option, pass_state
from runyard.cli.errors import cli_wording
from runyard.errors import InvalidArgument

# Workspace.create's advice, in this command's flags.
_CREATE_WORDING = {
    "Open it with Workspace.from_config() or pass exist_ok=True": "Pass --exist-ok to open it",
    "choose another path": "choose another --path",
}


@click.group()
def workspace() -> None:
    """Create a workspace, show the current one, or sweep runs whose process died."""


@workspace.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard workspace create demo                   # ~/.runyard/workspaces/demo\n"
        "  runyard workspace create demo --path ./ws       # an embedded workspace here\n"
        "  runyard workspace create team \\\n"
        "      --tracking-uri postgresql+psycopg://user@db/runyard \\\n"
        "      --artifact-uri s3://bucket/runyard\n"
        "  runyard workspace create demo --exist-ok --config-dir ci/"
    )
)
@click.argument("name")
@click.option(
    "--path",
    type=click.Path(file_okay=False),
    help="Folder of an embedded workspace (SQLite + files). "
    "Default: ~/.runyard/workspaces/NAME ($RUNYARD_HOME moves it).",
)
@click.option("--exist-ok", is_flag=True, help="Open the workspace if it exists already.")
@click.option(
    "--tracking-uri",
    metavar="URL",
    help="A SQLAlchemy database URL (e.g. PostgreSQL) instead of an embedded database.",
)
@click.option(
    "--artifact-uri",
    metavar="URL",
    help="Where files go with --tracking-uri: a folder or an fsspec URL (s3://, az://, gs://).",
)
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False),
    help="Folder to write config.json into. Default: .runyard in the current folder.",
)
@click.option("--no-config", is_flag=True, help="Do not write config.json.")
@json_option
@pass_state
def create(
    state: CliState,
    name: str,
    path: str | None,
    exist_ok: bool,
    tracking_uri: str | None,
    artifact_uri: str | None,
    config_dir: str | None,
    no_config: bool,
) -> None:
    """Create workspace NAME and write config.json so later commands find it.

    Without --tracking-uri the workspace is embedded: one folder holding a SQLite database
    and the files. config.json goes to .runyard/ in the current folder (see --config-dir);
    an existing one there is replaced.
    """
    from runyard.core.workspace import Workspace

    if artifact_uri and not tracking_uri:
        raise InvalidArgument(
            "--artifact-uri goes with --tracking-uri; for an embedded workspace use --path."
        )
    if no_config and config_dir:
        raise InvalidArgument("--no-config and --config-dir contradict each other; give one.")
    if not no_config:
        _check_config_dir(config_dir if config_dir is not None else ".runyard")
    with cli_wording(_CREATE_WORDING):
        ws = Workspace.create(
            name,
            path=path,
            exist_ok=exist_ok,
            tracking_uri=tracking_uri,
            artifact_uri=artifact_uri,
        )
    replaced = None if no_config else _configured_name(config_dir)
    try:
        config_file = None if no_config else os.path.abspath(ws.write_config(config_dir))
        details = _details(ws, config_file)
    finally:
        ws.close()
    out = state.output
    if replaced and replaced != name:
        out.note(f"Replaced {config_file}, which named workspace {replaced!r}.")
    if out.json_output:
        out.json(details)
        return
    out.line(f"Workspace {name!r} is ready: {details['path'] or details['trackingUri']}")
    if config_file:
        out.line(f"Wrote {config_file}")
    else:
        out.note(
            "No config.json written: pass --workspace to later commands, or run "
            "'runyard workspace create NAME --exist-ok' to write one."
        )


@workspace.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard workspace show\n"
        "  runyard -w ../other/.runyard workspace show --json"
    )
)
@json_option
@pass_state
def show(state: CliState) -> None:
    """Show the current workspace: where it keeps things and what it holds."""
    ws = state.workspace()
    store = ws.resources.store
    experiments = store.list_experiments()
    details = _details(ws, state.config_file)
    details.update(
        {
            "experiments": len(experiments),
            "runs": sum(e.run_count for e in experiments),
            "models": len(store.list_models(latest=True)),
            "datastores": sorted(d.name for d in store.list_datastores()),
        }
    )
    out = state.output
    if out.json_output:
        out.json(details)
        return
    out.fields(
        [
            ("Name", details["name"]),
            ("Config", details["configFile"]),
            ("Path", details["path"]),
            ("Tracking URI", details["trackingUri"]),
            ("Artifact URI", details["artifactUri"]),
            ("Experiments", details["experiments"]),
            ("Runs", details["runs"]),
            ("Models", details["models"]),
            ("Datastores", ", ".join(details["datastores"]) or "-"),
        ]
    )


def _check_config_dir(folder: str) -> None:
    """Make sure config.json can be written into ``folder`` before the workspace is created,
    so that a bad --config-dir leaves nothing behind.

    Raises:
        InvalidArgument: the folder cannot be created or written to.
    """
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise InvalidArgument(
            f"Cannot create the config folder {folder!r}: {exc.strerror or exc}. Choose another "
            "--config-dir (or --no-config); no workspace was created."
        ) from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidArgument(
            f"Cannot write config.json into {folder!r}: permission denied. Choose another "
            "--config-dir (or --no-config); no workspace was created."
        )


@workspace.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard workspace sweep                  # every active run of the workspace\n"
        "  runyard workspace sweep --target cpu     # only the runs of one compute target\n"
        "\b\n"
        "Reading a run (run list, run show, get_status) never changes it; the sweeper does:\n"
        "local executors and the Ray dispatcher sweep their target, waiting on a run sweeps\n"
        "that run, and this command sweeps on demand (e.g. from cron). It also starts a new\n"
        "tuning controller for a HyperDrive run whose controller died."
    )
)
@click.option("--target", "-t", metavar="NAME", help="Only runs of this compute target.")
@json_option
@pass_state
def sweep(state: CliState, target: str | None) -> None:
    """End the active runs whose process stopped heart-beating and is gone, and resume the
    HyperDrive runs whose tuning controller is gone.

    Such a run is marked Failed (Canceled when a cancel was asked for) with the error code
    ExecutorLost; what it logged until then is kept. A HyperDrive run gets a new controller
    that carries on from its saved state (Failed, with the reason, when it cannot be
    resumed). Live runs are left alone.
    """
    from runyard.node.liveness import sweep as sweep_runs
    from runyard.sweep.launch import sweep_controllers

    ws = state.workspace()
    # (the run afterwards, what was done, why)
    swept = [
        (r, "ended", (r.error or {}).get("message", ""))
        for r in sweep_runs(ws.resources, target=target)
    ]
    swept += [
        (t.record, "resumed" if t.resumed else "ended", t.message)
        for t in sweep_controllers(ws.resources, target=target)
    ]
    out = state.output
    if out.json_output:
        out.json(
            [
                {
                    "runId": r.run_id,
                    "status": r.status.value,
                    "action": action,
                    "error": r.error if action == "ended" else None,
                }
                for r, action, _ in swept
            ]
        )
        return
    out.table(
        ["Run", "Experiment", "Status", "Done", "Why"],
        [(r.run_id, r.experiment_name, r.status.value, a, why) for r, a, why in swept],
        empty="No run needed sweeping: every active run is alive.",
    )


def _configured_name(config_dir: str | None) -> str | None:
    """The workspace name in the config.json that is about to be written over, if any."""
    import json

    file = os.path.join(config_dir if config_dir is not None else ".runyard", "config.json")
    try:
        with open(file, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    name = data.get("workspace_name") if isinstance(data, dict) else None
    return str(name) if name else None


def _details(ws: Any, config_file: str | None) -> dict[str, Any]:
    sdk = ws.get_details()
    return {
        "name": sdk["name"],
        "path": sdk["path"],
        "trackingUri": sdk["tracking_uri"],
        "artifactUri": sdk["artifact_uri"],
        "configFile": config_file,
    }
