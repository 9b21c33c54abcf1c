"""``runyard model register|list|show|download|delete``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from runyard.cli.context import CliState, json_option, pass_state
from runyard.cli.errors import CommandFailed, cli_wording
from runyard.cli.output import Output, confirm, format_pairs, format_time
from runyard.cli.parsing import parse_filters, parse_model_id, parse_pairs
from runyard.errors import InvalidArgument

if TYPE_CHECKING:
    from runyard.core.model import Model


@click.group()
def model() -> None:
    """Register, list, show, download and delete model versions."""


@model.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard model register --name mnist --path ./outputs/model --tag stage=dev\n"
        "  runyard model register --name mnist --run-id RUN_ID --run-path outputs/model \\\n"
        "      --framework TensorFlow --framework-version 2.16 --description 'first try'"
    )
)
@click.option("-n", "--name", required=True, help="Model name; each register adds a version.")
@click.option(
    "-p", "--path", "model_path", type=click.Path(), help="A local file or folder to register."
)
@click.option("--run-id", help="Register a run's files instead of local ones.")
@click.option(
    "--run-path",
    help="With --run-id: the run file or folder to register.  [default: outputs/model]",
)
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A tag (repeat).")
@click.option(
    "--property", "properties", multiple=True, metavar="KEY=VALUE", help="A property (repeat)."
)
@click.option("-d", "--description", help="What the model is.")
@click.option("--framework", help="e.g. TensorFlow, PyTorch, ScikitLearn.")
@click.option("--framework-version", help="e.g. 2.16.")
@json_option
@pass_state
def register(
    state: CliState,
    name: str,
    model_path: str | None,
    run_id: str | None,
    run_path: str | None,
    tags: tuple[str, ...],
    properties: tuple[str, ...],
    description: str | None,
    framework: str | None,
    framework_version: str | None,
) -> None:
    """Register a file or folder as the next version of a model.

    Give --path (local files) or --run-id (a run's files, keeping the lineage to the run).
    JSON: the model version (see 'runyard model show').
    """
    if (model_path is None) == (run_id is None):
        raise InvalidArgument(
            "Give exactly one of --path (local files) or --run-id (a run's files)."
        )
    if run_path is not None and run_id is None:
        raise InvalidArgument("--run-path goes with --run-id; with local files use --path.")
    tag_dict = parse_pairs(tags, "--tag")
    property_dict = parse_pairs(properties, "--property")
    ws = state.workspace()
    registered: Model
    if run_id is not None:
        from runyard.core.run import Run

        registered = Run.get(ws, run_id).register_model(
            name,
            run_path or "outputs/model",
            tags=tag_dict or None,
            properties=property_dict or None,
            model_framework=framework,
            model_framework_version=framework_version,
            description=description,
        )
    else:
        from runyard.core.model import Model

        assert model_path is not None
        registered = Model.register(
            ws,
            model_path,
            name,
            tags=tag_dict or None,
            properties=property_dict or None,
            description=description,
            model_framework=framework,
            model_framework_version=framework_version,
        )
    out = state.output
    if out.json_output:
        out.json(registered.serialize())
    else:
        out.line(f"Registered {registered.id}")


@model.command(
    "list",
    epilog=(
        "\b\nExamples:\n"
        "  runyard model list\n"
        "  runyard model list --name mnist\n"
        "  runyard model list --tag stage=prod --latest --json"
    ),
)
@click.option("-n", "--name", help="Only versions of this model.")
@click.option(
    "--tag", "tags", multiple=True, metavar="KEY[=VALUE]", help="Has this tag (value). Repeat."
)
@click.option(
    "--property",
    "properties",
    multiple=True,
    metavar="KEY[=VALUE]",
    help="Has this property (value). Repeat.",
)
@click.option("--run-id", help="Only models registered from this run.")
@click.option("--latest", is_flag=True, help="Only the newest version of each model.")
@json_option
@pass_state
def list_models(
    state: CliState,
    name: str | None,
    tags: tuple[str, ...],
    properties: tuple[str, ...],
    run_id: str | None,
    latest: bool,
) -> None:
    """List registered model versions, newest first.

    JSON: a list of model versions (see 'runyard model show').
    """
    from runyard.core.model import Model

    found = Model.list(
        state.workspace(),
        name=name,
        tags=parse_filters(tags, "--tag") or None,
        properties=parse_filters(properties, "--property") or None,
        run_id=run_id,
        latest=latest,
    )
    out = state.output
    if out.json_output:
        out.json([m.serialize() for m in found])
        return
    filtered = bool(name or tags or properties or run_id)
    out.table(
        ["Name", "Version", "Framework", "Run", "Created", "Tags"],
        [
            (
                m.name,
                m.version,
                " ".join(p for p in (m.model_framework, m.model_framework_version) if p) or "-",
                m.run_id,
                format_time(m.created_time.timestamp()),
                format_pairs(m.tags),
            )
            for m in found
        ],
        empty="No models match." if filtered else "No models registered yet.",
    )


@model.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard model show mnist          # the latest version\n"
        "  runyard model show mnist:2 --json"
    )
)
@click.argument("model_id", metavar="NAME[:VERSION]")
@json_option
@pass_state
def show(state: CliState, model_id: str) -> None:
    """Show a model version (the latest without :VERSION).

    JSON: {"id", "name", "version", "description", "tags", "properties", "framework",
    "frameworkVersion", "runId", "experimentName", "createdTime", "url"}.
    """
    found = _get(state, model_id)
    _show(state.output, found)


def _show(out: Output, found: Model) -> None:
    data = found.serialize()
    if out.json_output:
        out.json(data)
        return
    out.fields(
        [
            ("ID", data["id"]),
            ("Name", data["name"]),
            ("Version", data["version"]),
            ("Description", data["description"]),
            ("Framework", data["framework"]),
            ("Framework version", data["frameworkVersion"]),
            ("Run", data["runId"]),
            ("Experiment", data["experimentName"]),
            ("Created", format_time(found.created_time.timestamp())),
            ("Tags", format_pairs(data["tags"])),
            ("Properties", format_pairs(data["properties"])),
            ("URL", data["url"]),
        ]
    )


@model.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard model download mnist                   # latest, into .\n"
        "  runyard model download mnist:2 --target ./models --exist-ok"
    )
)
@click.argument("model_id", metavar="NAME[:VERSION]")
@click.option(
    "--target",
    "target_dir",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Folder to download into; the model keeps its registered file or folder name.",
)
@click.option("--exist-ok", is_flag=True, help="Overwrite files that exist already.")
@json_option
@pass_state
def download(state: CliState, model_id: str, target_dir: str, exist_ok: bool) -> None:
    """Download a model version's files (the latest without :VERSION).

    JSON: {"id", "path"} (the downloaded file or folder).
    """
    found = _get(state, model_id)
    wording = {"pass exist_ok=True": "pass --exist-ok", "another target_dir": "another --target"}
    with cli_wording(wording):
        path = os.path.abspath(found.download(target_dir=target_dir, exist_ok=exist_ok))
    out = state.output
    if out.json_output:
        out.json({"id": found.id, "path": path})
    else:
        out.line(path)


@model.command(
    epilog="\b\nExamples:\n  runyard model delete mnist:1\n  runyard model delete mnist:1 --yes"
)
@click.argument("model_id", metavar="NAME:VERSION")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_state
def delete(state: CliState, model_id: str, yes: bool) -> None:
    """Delete one model version and its files (its number is never reused).

    The version must be given: there is no 'latest' default for deleting.
    JSON: {"id", "deleted": true}.
    """
    name, version = parse_model_id(model_id, require_version=True)
    from runyard.core.model import Model

    found = Model(state.workspace(), name, version=version)
    if not yes and not confirm(f"Delete model {found.id} and its files?"):
        raise CommandFailed(f"Model {found.id} not deleted: not confirmed. Pass --yes to skip.")
    found.delete()
    out = state.output
    if out.json_output:
        out.json({"id": found.id, "deleted": True})
    else:
        out.line(f"Deleted {found.id}")


def _get(state: CliState, model_id: str) -> Model:
    from runyard.core.model import Model

    name, version = parse_model_id(model_id)
    return Model(state.workspace(), name, version=version)
