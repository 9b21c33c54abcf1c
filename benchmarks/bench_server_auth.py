"""Token checks on the team server: Runyard's bearer tokens vs MLflow's basic auth.

(a) the token check per request, in process: the ``requires(Role.READER)`` dependency on a
    fresh request whose token is in the credential cache (what nearly every request pays:
    a SHA-256, a dict lookup, the role of the path's workspace), and the identity store's
    query for a token seen for the first time in 5 s (SQLite);
(b) over HTTP, one keep-alive connection, the same httpx client for both tools: p50 of a
    small authenticated GET minus p50 of an unauthenticated one on the same server —
    Runyard: ``GET /api/v1/me`` vs ``/health/live`` (both async routes); MLflow 3.17:
    ``GET /api/2.0/mlflow/experiments/get?experiment_id=0`` on ``mlflow server
    --app-name basic-auth`` (its admin) vs on ``mlflow server`` without auth.

    python benchmarks/bench_server_auth.py [--requests 2000] [--quick] [--no-mlflow]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

MLFLOW_REQUIREMENTS = ["mlflow[auth]==3.17.2"]
# The administrator mlflow's basic-auth app creates (it ships no default password).
MLFLOW_ADMIN = ("admin", "bench-only-password-1234")
MLFLOW_AUTH_REQUESTS = 100


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready in {timeout_s} s: {log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _p50_ms(url: str, requests: int, headers: dict[str, str], auth: Any = None) -> float:
    """p50 latency of ``requests`` sequential GETs on one keep-alive connection, in ms."""
    import httpx

    samples = []
    with httpx.Client(headers=headers, auth=auth, timeout=30) as client:
        for i in range(requests + 20):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}: {response.text}")
            if i >= 20:  # warm-up
                samples.append(elapsed * 1000)
    return statistics.median(samples)


# -- (a) in process ----------------------------------------------------------------------
def check_in_process(work: Path, calls: int) -> dict[str, float]:
    from starlette.requests import Request

    from runyard.server.app import create_app
    from runyard.server.auth import Role, requires
    from runyard.server.identity import hash_secret, open_identity_store
    from runyard.server.settings import ServerSettings

    home = work / "inproc-home"
    store = open_identity_store(str(home))
    secret = store.init_admin("alice").secret
    store.create_user("bob")
    bob = store.create_token("bob", "t").secret
    store.set_member("team", "bob", Role.CONTRIBUTOR)
    app = create_app(ServerSettings(workspace=None, home=str(home)))
    app.state.identity = store
    dependency = requires(Role.READER)

    def scope(token: str) -> dict[str, Any]:
        return {
            "type": "http",
            "method": "GET",
            "path": "/api/v1/workspaces/team/runs",
            "query_string": b"",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
            "path_params": {"workspace": "team"},
            "app": app,
        }

    def one_check(token_scope: dict[str, Any]) -> Callable[[], Any]:
        def check() -> Any:
            coroutine = dependency(Request(token_scope))
            try:
                coroutine.send(None)
            except StopIteration as done:
                return done.value
            coroutine.close()
            raise RuntimeError("the check waited: the token was not in the cache")

        return check

    out: dict[str, float] = {}
    for name, token in (("admin", secret), ("member", bob)):
        token_scope = scope(token)
        import asyncio

        asyncio.run(dependency(Request(token_scope)))  # the first check fills the cache
        check = one_check(token_scope)
        per_call = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(calls):
                check()
            per_call.append((time.perf_counter() - started) / calls * 1e6)
        out[f"cached_{name}_us"] = min(per_call)
        out[f"cached_{name}_median_us"] = statistics.median(per_call)
    token_hash = hash_secret(bob)
    summary = common.time_repeated(lambda: store.credential(token_hash), 500, warmup=20)
    out["store_query_us"] = summary.median * 1e6
    store.close()
    return out


# -- (b) over HTTP -----------------------------------------------------------------------
def runyard_http(work: Path, requests: int) -> dict[str, float]:
    from runyard.core.workspace import Workspace
    from runyard.server.identity import open_identity_store

    Workspace.create("team", path=work / "ws").close()
    home = work / "http-home"
    store = open_identity_store(str(home))
    token = store.init_admin("alice").secret
    store.close()
    port = _free_port()
    log = work / "runyard-server.log"
    args = ["--home", str(home), "--port", str(port)]
    with open(log, "wb") as fh:
        process = subprocess.Popen(
            [sys.executable, "-m", "runyard.cli", "-w", str(work / "ws"), "server", "start", *args],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base + "/health/ready", process, log, 60)
        auth = {"Authorization": f"Bearer {token}"}
        # Interleaved rounds, so that a noisy moment hits both sides alike.
        open_ms, authed_ms = [], []
        for _ in range(3):
            open_ms.append(_p50_ms(base + "/health/live", requests, {}))
            authed_ms.append(_p50_ms(base + "/api/v1/me", requests, auth))
    finally:
        _stop(process)
    return {"open_p50_ms": min(open_ms), "auth_p50_ms": min(authed_ms)}


def mlflow_http(work: Path, requests: int) -> dict[str, Any]:
    python = common.ensure_venv("mlflow-auth", MLFLOW_REQUIREMENTS)
    mlflow = str(Path(python).parent / "mlflow")
    env = {
        **os.environ,
        **common.QUIET_ENV,
        # basic-auth refuses to start without one (its CSRF protection's key).
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "bench-only-secret",
        "MLFLOW_AUTH_ADMIN_PASSWORD": MLFLOW_ADMIN[1],
        "PATH": str(Path(python).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    url = "/api/2.0/mlflow/experiments/get?experiment_id=0"
    results: dict[str, Any] = {"version": common.installed_version(python, "mlflow")}
    for name, app in (("open", []), ("auth", ["--app-name", "basic-auth"])):
        folder = work / f"mlflow-{name}"
        folder.mkdir()
        extra = ["--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}", *app]
        port = _free_port()
        log = folder / "server.log"
        with open(log, "wb") as fh:
            process = subprocess.Popen(
                [
                    mlflow,
                    "server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    "1",
                    *extra,
                ],
                stdout=fh,
                stderr=subprocess.STDOUT,
                cwd=folder,  # basic-auth keeps its users in ./basic_auth.db
                env=env,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base + "/health", process, log, 180)
            auth = MLFLOW_ADMIN if name == "auth" else None
            # Each basic-auth request takes a password hash's time: fewer of them suffice.
            count = min(requests, MLFLOW_AUTH_REQUESTS) if auth else requests
            rounds = [_p50_ms(base + url, count, {}, auth) for _ in range(3)]
            results[f"{name}_p50_ms"] = min(rounds)
        finally:
            _stop(process)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.calls = 200, 2000
    common.WORK_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="auth-", dir=common.WORK_DIR))
    try:
        ours = check_in_process(work, args.calls)
        http = runyard_http(work, args.requests)
        ml = None if args.no_mlflow else mlflow_http(work, args.requests)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    name = f"mlflow {ml['version']} basic-auth" if ml else "mlflow"
    ml_added = ml["auth_p50_ms"] - ml["open_p50_ms"] if ml else None
    our_added = http["auth_p50_ms"] - http["open_p50_ms"]
    rows = [
        common.row(
            "token check per request (cached, in process)",
            ours["cached_member_us"] / 1000,
            None,
            "",
            "ms",
            target="<= 0.1 ms",
            met=ours["cached_member_us"] <= 100,
        ),
        common.row(
            "token check, first use of a token (SQLite query)",
            ours["store_query_us"] / 1000,
            None,
            "",
            "ms",
        ),
        common.row(
            "added p50 of an authenticated GET over HTTP",
            max(our_added, 1e-6),
            ml_added,
            name,
            "ms",
        ),
        common.row(
            "authenticated small GET p50",
            http["auth_p50_ms"],
            ml["auth_p50_ms"] if ml else None,
            name,
            "ms",
        ),
    ]
    notes = (
        "Token check: requires(Role.READER) on a fresh Starlette Request (construction "
        "included), token in the 5 s credential cache: the best of 5 rounds of "
        f"{args.calls} calls (the admin's check: {ours['cached_admin_us']:.2f} µs). "
        "Added p50 over HTTP: p50 of the authenticated GET minus p50 of an unauthenticated "
        "one on the same server and connection (Runyard: /api/v1/me vs "
        "/health/live, two async routes; MLflow: the same "
        "experiments/get call with and without --app-name basic-auth), best of 3 rounds of "
        f"{args.requests} requests each (MLflow with basic auth: {MLFLOW_AUTH_REQUESTS}, "
        "each taking a password hash's time), one keep-alive httpx connection."
    )
    path = common.write_result(
        "server_auth",
        "Team server: token checks",
        rows,
        notes,
        extra={"runyard": {**ours, **http}, "mlflow": ml},
        smoke=args.quick,
    )
    common.print_result(path)


if __name__ == "__main__":
    main()
