"""``runyard server start``: serve a workspace to a team over HTTP;
``runyard server init-admin``: its first administrator and their token."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from runyard.cli.context import CliState, pass_state

if TYPE_CHECKING:
    from runyard.server.settings import OidcSettings, ServerSettings

F = TypeVar("F", bound=Callable[..., Any])


def _database_url_option(fn: F) -> F:
    return click.option(
        "--database-url",
        metavar="URL",
        help="A PostgreSQL URL for the server's users, tokens and roles (default: the SQLite "
        "file server.db in --home).",
    )(fn)


@click.group()
def server() -> None:
    """Run the team server: one REST API over a workspace's run history and files."""


@server.command(
    epilog=(
        "\b\nExamples:\n"
        "  runyard server start --workspace ./team-ws\n"
        "  runyard server start --config team.json --port 9000 --workers 4"
    )
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="A workspace config.json to serve (default: the --workspace folder or config, or "
    "the config found from the current folder).",
)
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    help="The folder for workspaces created through the API (default: $RUNYARD_HOME/server, "
    "i.e. ~/.runyard/server).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to bind. Any other than a loopback one needs an administrator "
    "first (runyard server init-admin).",
)
@click.option("--port", type=int, default=None, help="The TCP port (default 8765).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@click.option(
    "--max-body-mb",
    type=float,
    default=32.0,
    show_default=True,
    help="The largest request body, in MB: a file upload's chunk, an append, a JSON body.",
)
@_database_url_option
@click.option(
    "--write-rate",
    type=float,
    default=200.0,
    show_default=True,
    help="Writes per second one token may send on average (0: no limit); beyond it the "
    "server answers 429 with Retry-After.",
)
@click.option(
    "--write-burst",
    type=int,
    default=400,
    show_default=True,
    help="Writes one token may send at once before --write-rate applies.",
)
@click.option(
    "--client-timeout",
    type=click.FloatRange(min=0, min_open=True, max=3600),
    default=30.0,
    show_default=True,
    help="Seconds a client may take to send a request's head, or pause inside its body, "
    "before the server answers 408 and closes the connection (slow or stuck clients).",
)
@click.option(
    "--interactive-timeout",
    type=click.FloatRange(min=0, min_open=True, max=7 * 86400),
    default=600.0,
    show_default=True,
    help="Seconds an interactive run (a notebook logging to the server) may stay silent, "
    "its network away say, before it is marked Failed. The SDK keeps values while away.",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="One JSON line per request on standard output: time, user, method, path, query "
    "(secrets masked), status, bytes, milliseconds, client.",
)
@click.option(
    "--oidc-issuer",
    metavar="URL",
    help="Let people sign in to the web UI through this OpenID Connect provider (its "
    "issuer URL). The client secret is read from RUNYARD_OIDC_CLIENT_SECRET.",
)
@click.option("--oidc-client-id", metavar="ID", help="This server's client id at the provider.")
@click.option(
    "--oidc-username-claim",
    default="preferred_username",
    show_default=True,
    help="The ID token claim that names the Runyard user.",
)
@click.option(
    "--oidc-create-users",
    is_flag=True,
    help="Make a (non-admin, member of nothing) user on first sign-in instead of refusing "
    "people an administrator has not added.",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="The URL the server is reached at when it is not http://HOST:PORT (a proxy in "
    "front of it, or Ray nodes on other machines): given to the processes of the runs it "
    "starts, which reach it only there, and printed for clients. https://host[:port], or "
    "http to this machine.",
)
@pass_state
def start(
    state: CliState,
    config_file: str | None,
    home: str | None,
    host: str,
    port: int | None,
    workers: int,
    max_body_mb: float,
    database_url: str | None,
    write_rate: float,
    write_burst: int,
    client_timeout: float,
    access_log: bool,
    interactive_timeout: float,
    oidc_issuer: str | None,
    oidc_client_id: str | None,
    oidc_username_claim: str,
    oidc_create_users: bool,
    public_url: str | None,
) -> None:
    """Serve workspaces until interrupted (Ctrl+C or SIGTERM stop it gracefully).

    Serves the workspace that --workspace or --config names (or the config found from the
    current folder, if any) and the workspaces in --home. Databases are migrated to the
    current schema before the first request. Every API call needs a token (see
    'runyard server init-admin' and 'runyard login'); with --oidc-issuer, people may also
    sign in to the web UI through an OpenID Connect provider, which ends with such a token.
    """

    from runyard.config import WorkspaceConfig, load_workspace_config
    from runyard.errors import NotFound
    from runyard.server.serve import serve
    from runyard.server.settings import DEFAULT_PORT, ServerSettings

    config: WorkspaceConfig | None
    if config_file:
        config = WorkspaceConfig.load(config_file)
    else:
        try:
            config = load_workspace_config(state.workspace_path)
        except NotFound:
            if state.workspace_path:
                raise
            config = None  # no config here: serve the home folder's workspaces
    settings = ServerSettings(
        workspace=config,
        home=home or _default_home(),
        host=host,
        port=DEFAULT_PORT if port is None else port,
        workers=workers,
        max_body_mb=max_body_mb,
        database_url=database_url,
        write_rate_per_s=write_rate,
        write_burst=write_burst,
        client_timeout_s=client_timeout,
        access_log=access_log,
        interactive_timeout_s=interactive_timeout,
        oidc=_oidc_settings(oidc_issuer, oidc_client_id, oidc_username_claim, oidc_create_users),
        public_url=public_url,
    )
    # Migrate and check once here, before any worker starts: a refusal is one clear line.
    # With several workers this process only supervises them for the server's lifetime, so
    # the check runs in a forked child: the ~40 MB of SQLAlchemy and the identity store it
    # loads are given back instead of held by an idle supervisor.
    if settings.workers > 1 and hasattr(os, "fork"):
        has_admin = bool(_in_forked_child(_startup_check, settings))
    else:
        has_admin = _startup_check(settings)
    served = f"workspace {config.workspace_name!r} and " if config else ""
    public = f" (reached at {settings.url})" if settings.public_url else ""
    click.echo(
        f"Serving {served}the workspaces in {settings.home} on "
        f"http://{host}:{settings.port}{public}"
    )
    if not has_admin:
        click.echo(
            "No administrator yet: every API call will be refused. Create one with "
            f"'runyard server init-admin --home {settings.home}'.",
            err=True,
        )
    serve(settings)


@server.command(
    "init-admin",
    epilog=(
        "\b\nExamples:\n"
        "  runyard server init-admin --home ./team-home --name alice > alice.token\n"
        "  runyard login --server http://127.0.0.1:8765 < alice.token"
    ),
)
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    help="The server's folder, as given to 'runyard server start' (default: $RUNYARD_HOME/server).",
)
@_database_url_option
@click.option("--name", default="admin", show_default=True, help="The administrator's name.")
@click.option(
    "--expires-days",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Days until the token expires (default: never; revoke it once you hold others).",
)
def init_admin(
    home: str | None, database_url: str | None, name: str, expires_days: float | None
) -> None:
    """Create the server's first administrator and print their token, once.

    The token goes to standard output alone (redirect it to a file only you can read);
    nothing else ever shows it again, and it is stored only as a hash. Refused when the
    server has an administrator already. There are no passwords: further users get
    tokens from an administrator.
    """
    from runyard.server.identity import open_identity_store

    store = open_identity_store(home or _default_home(), database_url)
    try:
        issued = store.init_admin(name, expires_in_s=expires_days and expires_days * 86400)
    finally:
        store.close()
    click.echo(
        f"Created administrator {name!r}. Their token follows, shown only this once; "
        "log in with it: runyard login --server URL",
        err=True,
    )
    click.echo(issued.secret)


#: Where ``runyard server start`` reads the OIDC client secret (never from its arguments,
#: which every user of the machine can read in the process list).
ENV_OIDC_CLIENT_SECRET = "RUNYARD_OIDC_CLIENT_SECRET"


def _oidc_settings(
    issuer: str | None, client_id: str | None, username_claim: str, create_users: bool
) -> OidcSettings | None:
    from runyard.errors import InvalidArgument
    from runyard.server.settings import OidcSettings

    if not issuer and not client_id:
        return None
    if not issuer or not client_id:
        raise InvalidArgument("OIDC sign-in needs both --oidc-issuer and --oidc-client-id.")
    return OidcSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=take_secret_from_env(ENV_OIDC_CLIENT_SECRET),
        username_claim=username_claim,
        create_users=create_users,
    )


def take_secret_from_env(name: str) -> str:
    """The value of ``name``, removed from this process's environment: the runs this
    server starts inherit its environment, and must not inherit the secret."""
    import os

    return os.environ.pop(name, "")


def _default_home() -> str:
    import os

    from runyard.settings import Settings

    return os.path.join(Settings.from_env().home_dir, "server")


def _startup_check(settings: ServerSettings) -> bool:
    """Migrate the identity store and refuse what must not be served (see
    ``check_can_serve``); whether an administrator exists."""
    from runyard.server.auth.startup import check_can_serve
    from runyard.server.identity import open_identity_store

    identity = open_identity_store(settings.home, settings.database_url)
    try:
        check_can_serve(settings, identity)
        return identity.has_admin()
    finally:
        identity.close()


def _in_forked_child(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a forked child process, its (JSON) result returned here; a
    ``RunyardError`` it raises is raised here with its message.

    Raises:
        RunyardError: the child failed otherwise (its traceback went to stderr).
    """
    from runyard import errors

    sys.stdout.flush()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        code = 0
        try:
            answer: dict[str, Any] = {"value": fn(*args)}
        except errors.RunyardError as exc:
            answer = {"error": type(exc).__name__, "message": exc.message}
        except BaseException:
            traceback.print_exc()
            answer, code = {"error": None, "message": "see the traceback above"}, 1
        with os.fdopen(write_fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(answer))
        os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, encoding="utf-8") as fh:
        text = fh.read()
    os.waitpid(pid, 0)
    try:
        answer = json.loads(text)
    except ValueError:
        answer = {"error": None, "message": "it exited without an answer"}
    if "value" in answer:
        return answer["value"]
    kind = getattr(errors, str(answer.get("error")), None)
    message = str(answer.get("message"))
    if isinstance(kind, type) and issubclass(kind, errors.RunyardError):
        try:
            raise kind(message)
        except TypeError:  # an error class that takes more than a message
            pass
    raise errors.RunyardError(f"The server's start-up check failed: {message}")
