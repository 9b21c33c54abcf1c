"""Real environment builds with uv (needs PyPI): cache miss and hit, concurrent builds,
failures, conda packages, Runyard inside the environment, user-managed interpreters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runyard.environments import BuiltEnvironment, EnvironmentSpec, UvEnvironmentBuilder
from runyard.environments.cache import MANIFEST, REQUIREMENTS
from runyard.environments.host import RunyardHost
from runyard.errors import EnvironmentBuildError

pytestmark = pytest.mark.integration

SIX = EnvironmentSpec(pip_packages=("six==1.16.0",), conda_packages=("tomli",))


def _leftovers(cache_dir: Path) -> list[str]:
    return sorted(p.name for p in cache_dir.iterdir() if p.name != ".locks")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuiltEnvironment, list[str]]:
    """One real build with the default settings (bytecode compiled), shared by the tests
    that only look at it."""
    cache_dir = tmp_path_factory.mktemp("envs")
    lines: list[str] = []
    env = UvEnvironmentBuilder(cache_dir).build(SIX, log=lines.append)
    return cache_dir, env, lines


def test_a_cold_build_installs_the_packages_and_records_them(built) -> None:
    cache_dir, env, lines = built
    assert not env.cache_hit
    assert env.packages["six"] == "1.16.0"
    assert "tomli" in env.packages and "sqlalchemy" in env.packages
    assert Path(env.path) == cache_dir / env.spec_hash
    manifest = json.loads((Path(env.path) / MANIFEST).read_text())
    assert manifest["packages"] == dict(env.packages)
    assert manifest["spec"] == SIX.to_dict()
    assert "six==1.16.0" in (Path(env.path) / REQUIREMENTS).read_text()
    assert any(line.startswith(" + six==1.16.0") for line in lines)  # uv's own output
    assert _leftovers(cache_dir) == [env.spec_hash]


def test_conda_packages_are_installed_from_pypi_with_a_log_line(built) -> None:
    _, env, lines = built
    assert "conda package 'tomli' installed from PyPI as 'tomli'" in lines
    assert "tomli" in env.packages


def test_a_second_build_is_a_cache_hit_without_uv(built) -> None:
    cache_dir, env, _ = built
    built_at = json.loads((Path(env.path) / MANIFEST).read_text())["built_at"]
    # A builder whose uv does not exist can only succeed by not running uv at all.
    lines: list[str] = []
    again = UvEnvironmentBuilder(cache_dir, uv="/nonexistent/uv").build(SIX, log=lines.append)
    assert again.cache_hit
    assert again.python == env.python and again.packages == env.packages
    assert json.loads((Path(env.path) / MANIFEST).read_text())["built_at"] == built_at
    assert lines == [f"Environment {env.spec_hash[:12]} found in the cache: {env.path}"]


def test_the_same_packages_in_another_order_reuse_the_environment(built) -> None:
    cache_dir, _, _ = built
    shuffled = EnvironmentSpec(pip_packages=(" six==1.16.0",), conda_packages=("tomli", "tomli"))
    assert UvEnvironmentBuilder(cache_dir, uv="/nonexistent/uv").build(shuffled).cache_hit


def test_runyard_is_importable_inside_the_environment_and_nothing_else_leaks(built) -> None:
    _, env, _ = built
    probe = (
        "import importlib.metadata as m, json, os, runyard, runyard.errors, sqlalchemy\n"
        "try:\n    import pytest\n    leaked = True\nexcept ImportError:\n    leaked = False\n"
        "print(json.dumps({'dir': os.path.realpath(os.path.dirname(runyard.__file__)),"
        " 'version': m.version('runyard'), 'leaked': leaked}))"
    )
    out = subprocess.run(
        [env.python, "-c", probe], capture_output=True, text=True, check=True, env=env.process_env()
    )
    answer = json.loads(out.stdout)
    host = RunyardHost()
    assert answer["dir"] == os.path.realpath(host.package_dir)
    assert answer["version"] == host.version
    assert answer["leaked"] is False  # the caller's site-packages (pytest) is not visible


def test_console_scripts_work_after_the_build_folder_is_renamed(built) -> None:
    _, env, _ = built
    out = subprocess.run(
        [os.path.join(env.bin_dir, "alembic"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("alembic ")


_RACER = """
import json, os, sys, time
from runyard.environments import EnvironmentSpec, UvEnvironmentBuilder
cache_dir, ready, go = sys.argv[1:4]
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.005)
lines = []
env = UvEnvironmentBuilder(cache_dir, compile_bytecode=False).build(
    EnvironmentSpec(pip_packages=("six==1.16.0",)), log=lines.append
)
print(json.dumps({"hit": env.cache_hit, "python": env.python, "lines": lines}))
"""


def test_two_processes_building_one_spec_build_it_once(tmp_path: Path) -> None:
    cache_dir = tmp_path / "envs"
    go = tmp_path / "go"
    procs = []
    for i in range(2):
        ready = tmp_path / f"ready{i}"
        command = [sys.executable, "-c", _RACER, str(cache_dir), str(ready), str(go)]
        procs.append((subprocess.Popen(command, stdout=subprocess.PIPE, text=True), ready))
    deadline = time.monotonic() + 60
    while not all(ready.exists() for _, ready in procs):
        assert time.monotonic() < deadline, "the builder processes did not start"
        time.sleep(0.01)
    go.touch()
    results = []
    for proc, _ in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0
        results.append(json.loads(out))
    assert sorted(r["hit"] for r in results) == [False, True]
    assert results[0]["python"] == results[1]["python"]
    builds = [r for r in results if any(line.startswith("Building") for line in r["lines"])]
    assert len(builds) == 1
    assert len(_leftovers(cache_dir)) == 1


def test_a_failed_build_raises_with_uvs_message_and_leaves_nothing(tmp_path: Path) -> None:
    cache_dir = tmp_path / "envs"
    builder = UvEnvironmentBuilder(cache_dir, compile_bytecode=False)
    spec = EnvironmentSpec(pip_packages=("runyard-no-such-package-xyz",))
    with pytest.raises(EnvironmentBuildError) as caught:
        builder.build(spec)
    message = str(caught.value)
    assert "runyard-no-such-package-xyz" in message
    assert "uv pip install exited with code" in message
    assert "not found" in message  # uv's own words
    assert _leftovers(cache_dir) == []


def test_a_pin_that_conflicts_with_runyard_says_so(tmp_path: Path) -> None:
    builder = UvEnvironmentBuilder(tmp_path / "envs", compile_bytecode=False)
    with pytest.raises(EnvironmentBuildError) as caught:
        builder.build(EnvironmentSpec(pip_packages=("click==7.0",)))
    message = str(caught.value)
    assert "No solution found" in message
    assert "conflict with click>=8.1" in message
    assert "user_managed_dependencies=True" in message
    assert _leftovers(tmp_path / "envs") == []


def test_a_killed_builds_leftovers_are_cleared_before_building(tmp_path: Path) -> None:
    cache_dir = tmp_path / "envs"
    builder = UvEnvironmentBuilder(cache_dir, compile_bytecode=False)
    spec = EnvironmentSpec(pip_packages=("six==1.16.0",))
    spec_hash = builder.spec_hash(spec)
    (cache_dir / f"{spec_hash}.building-deadbeef" / "bin").mkdir(parents=True)
    (cache_dir / spec_hash).mkdir()  # a folder with no manifest is not a finished build
    env = builder.build(spec)
    assert not env.cache_hit
    assert _leftovers(cache_dir) == [spec_hash]
    assert (cache_dir / spec_hash / MANIFEST).exists()


def test_user_managed_uses_the_running_interpreter_as_it_is(tmp_path: Path) -> None:
    builder = UvEnvironmentBuilder(tmp_path / "envs")
    env = builder.build(EnvironmentSpec(user_managed=True))
    assert env.user_managed and env.python == sys.executable
    assert env.path == sys.prefix
    assert "pytest" in {name.lower() for name in env.packages}
    assert not (tmp_path / "envs").exists()  # nothing built


def test_user_managed_interpreter_without_runyard_says_to_install_it(tmp_path: Path) -> None:
    from uv import find_uv_bin

    venv = tmp_path / "bare"
    subprocess.run(
        [find_uv_bin(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True
    )
    python = venv / "bin" / "python"
    builder = UvEnvironmentBuilder(tmp_path / "envs")
    with pytest.raises(EnvironmentBuildError, match=r"cannot import runyard.*pip install runyard"):
        builder.build(EnvironmentSpec(user_managed=True, interpreter=str(python)))


def test_user_managed_interpreter_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    builder = UvEnvironmentBuilder(tmp_path / "envs")
    spec = EnvironmentSpec(user_managed=True, interpreter=str(tmp_path / "no" / "python"))
    with pytest.raises(EnvironmentBuildError, match="does not exist"):
        builder.build(spec)


def test_user_managed_interpreter_with_runyard_is_described(built) -> None:
    # The environment built above has Runyard: use it as a user-managed interpreter.
    _, env, _ = built
    other = UvEnvironmentBuilder(env.path + "-unused").build(
        EnvironmentSpec(user_managed=True, interpreter=env.python)
    )
    assert other.user_managed
    assert other.packages["six"] == "1.16.0"
    assert os.path.realpath(other.path) == os.path.realpath(env.path)


def test_an_unwritable_cache_is_a_build_error_naming_the_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    builder = UvEnvironmentBuilder(blocker / "envs")
    with pytest.raises(EnvironmentBuildError, match="RUNYARD_ENV_CACHE"):
        builder.build(EnvironmentSpec(pip_packages=("six==1.16.0",)))
