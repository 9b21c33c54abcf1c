"""UvEnvironmentBuilder: virtual environments built with uv, cached by content hash.

A build runs ``uv venv`` with the interpreter running Runyard into
``<cache>/<hash>.building-<random>``, puts this Runyard on the environment's path, installs
Runyard's base dependencies, the extras the workspace needs (its database driver, its
object store's file system: ``RunyardHost.extras``) and the spec's packages in one
``uv pip install`` (one resolution, so a pin that conflicts with Runyard's dependencies
fails clearly), records ``uv pip list`` in a manifest and renames the folder to
``<cache>/<hash>``. A lock per hash makes concurrent builds of one spec build it once.

uv does not read pip's configuration files. ``UV_*`` variables work as usual, and pip's
``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL`` and ``PIP_FIND_LINKS`` are passed on to uv when
the matching ``UV_*`` variable is not set.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from runyard.environments import cache
from runyard.environments.builder import BuiltEnvironment, EnvironmentBuilder, LogFn
from runyard.environments.host import RunyardHost
from runyard.environments.requirements import plan_install, requirement_name
from runyard.environments.spec import EnvironmentSpec
from runyard.environments.user_managed import use_interpreter
from runyard.errors import EnvironmentBuildError

#: pip's environment variables -> uv's, passed on when uv's is not set.
_PIP_TO_UV = (
    ("PIP_INDEX_URL", "UV_INDEX_URL", " "),
    ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL", " "),
    ("PIP_FIND_LINKS", "UV_FIND_LINKS", ","),
)
_ERROR_TAIL_CHARS = 6000
_HOME = "runyard-home"
_PTH = "_runyard_home.pth"


def _no_log(_line: str) -> None:
    pass


def _find_uv() -> str:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError) as exc:
        found = shutil.which("uv")
        if found:
            return found
        raise EnvironmentBuildError(
            "The uv executable was not found; it is one of Runyard's dependencies. "
            "Reinstall Runyard (pip install runyard) or put uv on PATH."
        ) from exc


def _existing_parent(path: str) -> str:
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


class UvEnvironmentBuilder(EnvironmentBuilder):
    """Builds environments with uv into a cache folder keyed by the spec's content hash.

    Args:
        cache_dir: Where environments are kept (default: ``$RUNYARD_ENV_CACHE``, else
            ``~/.cache/runyard/envs``).
        uv: The uv executable (default: the one installed with Runyard).
        compile_bytecode: Compile installed packages to bytecode at build time, as pip
            does, so that the first import in each run is fast.
        environ: The environment variables uv runs with (default: ``os.environ``).
        host: The interpreter and Runyard to build for (default: the running ones).
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike[str] | None = None,
        *,
        uv: str | None = None,
        compile_bytecode: bool = True,
        environ: Mapping[str, str] | None = None,
        host: RunyardHost | None = None,
    ) -> None:
        self._environ = dict(os.environ if environ is None else environ)
        self.cache_dir = (
            os.path.abspath(os.fspath(cache_dir))
            if cache_dir is not None
            else cache.default_cache_dir(self._environ)
        )
        self.compile_bytecode = compile_bytecode
        self._uv = uv
        self._host = host or RunyardHost()
        self._context: dict[str, Any] | None = None

    # -- naming ---------------------------------------------------------------------------
    def spec_hash(self, spec: EnvironmentSpec) -> str:
        """The content hash ``spec`` is cached under (spec + this interpreter + Runyard)."""
        if self._context is None:
            self._context = self._host.context()
        return spec.content_hash(self._context)

    def env_dir(self, spec: EnvironmentSpec) -> str:
        """The folder the environment of ``spec`` is (or will be) in."""
        return os.path.join(self.cache_dir, self.spec_hash(spec))

    # -- the port -------------------------------------------------------------------------
    def build(self, spec: EnvironmentSpec, log: LogFn | None = None) -> BuiltEnvironment:
        """Build the environment of ``spec`` with uv, or take it from the cache.

        A cache hit only reads the manifest (no uv, no lock). A miss takes the hash's lock
        (waiting, with a log line, while another process builds the same spec), then
        builds.

        Args:
            spec: What to install.
            log: Receives progress lines: cache hit or miss, each conda package translated,
                uv's own output line by line, the build time.

        Returns:
            The ready environment.

        Raises:
            EnvironmentBuildError: uv failed (its output is in the message); nothing is left
                in the cache. Also for a user-managed interpreter that is missing or cannot
                import Runyard.
        """
        log = log or _no_log
        started = time.perf_counter()
        spec_hash = self.spec_hash(spec)
        if spec.user_managed:
            return use_interpreter(spec, spec_hash, log)
        final = os.path.join(self.cache_dir, spec_hash)
        hit = self._cached(final, spec_hash, started, log)
        if hit is not None:
            return hit
        # Imported here: a cache hit (every run of a built environment) does not need it.
        from filelock import FileLock, Timeout

        try:
            lock_file = cache.lock_path(self.cache_dir, spec_hash)
            os.makedirs(os.path.dirname(lock_file), exist_ok=True)
            lock = FileLock(lock_file)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                log(f"Environment {spec_hash[:12]} is being built by another process; waiting")
                lock.acquire()
            try:
                hit = self._cached(final, spec_hash, started, log)
                if hit is not None:
                    return hit
                cache.remove_leftovers(self.cache_dir, spec_hash)
                return self._build(spec, spec_hash, final, started, log)
            finally:
                lock.release()
        except OSError as exc:
            raise EnvironmentBuildError(
                f"The environment cache {self.cache_dir} cannot be written: {exc}. "
                "Point RUNYARD_ENV_CACHE at a writable folder."
            ) from exc

    def _cached(
        self, final: str, spec_hash: str, started: float, log: LogFn
    ) -> BuiltEnvironment | None:
        manifest = cache.read_manifest(final)
        if manifest is None:
            return None
        log(f"Environment {spec_hash[:12]} found in the cache: {final}")
        return BuiltEnvironment(
            python=cache.env_python(final),
            path=final,
            packages=dict(manifest.get("packages", {})),
            cache_hit=True,
            seconds=time.perf_counter() - started,
            spec_hash=spec_hash,
        )

    # -- a cold build ---------------------------------------------------------------------
    def _build(
        self, spec: EnvironmentSpec, spec_hash: str, final: str, started: float, log: LogFn
    ) -> BuiltEnvironment:
        host = self._host
        uv = self._uv or _find_uv()
        env = self._uv_environ()
        building = os.path.join(
            self.cache_dir, f"{spec_hash}{cache.BUILDING}{secrets.token_hex(4)}"
        )
        log(
            f"Building environment {spec_hash[:12]} with uv (Python {host.python_version}, "
            f"link mode {env.get('UV_LINK_MODE', 'default')}) into {final}"
        )
        if spec.python and not (host.python_version + ".").startswith(spec.python + "."):
            log(
                f"Python {spec.python} was asked for; the environment uses Python "
                f"{host.python_version}, the interpreter running Runyard"
            )
        try:
            self._run(
                [uv, "venv", "--quiet", "--relocatable", "--python", host.executable, building],
                env,
                log,
                "uv venv",
            )
            python = cache.env_python(building)
            self._link_runyard(building)
            if host.extras:
                log(
                    f"Runyard's extras {', '.join(sorted(set(host.extras)))} are installed too: "
                    "the workspace the script reports to needs them"
                )
            plan = plan_install(spec, host.requirements, log)
            requirements = os.path.join(building, cache.REQUIREMENTS)
            with open(requirements, "w", encoding="utf-8") as f:
                f.write(plan.requirements_file())
            command = [uv, "pip", "install", "--python", python, "-r", requirements]
            for url in spec.extra_index_urls:
                command += ["--extra-index-url", url]
            if self.compile_bytecode:
                command.append("--compile-bytecode")
            self._run(command, env, log, "uv pip install", plan.user_requirements, spec)
            packages = self._installed(uv, python, env)
            seconds = time.perf_counter() - started
            cache.write_manifest(
                building,
                {
                    "spec_hash": spec_hash,
                    "spec": spec.to_dict(),
                    "context": host.context(),
                    "packages": packages,
                    "built_at": time.time(),
                    "build_seconds": round(seconds, 3),
                },
            )
            os.rename(building, final)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        log(f"Environment {spec_hash[:12]} built in {seconds:.1f} s ({len(packages)} packages)")
        return BuiltEnvironment(
            python=cache.env_python(final),
            path=final,
            packages=packages,
            cache_hit=False,
            seconds=time.perf_counter() - started,
            spec_hash=spec_hash,
        )

    def _link_runyard(self, env_dir: str) -> None:
        """Make this Runyard importable in the environment.

        A ``.pth`` file points at ``<env>/runyard-home``, which holds a link to the running
        ``runyard`` package and its metadata. (Pointing the ``.pth`` at the folder that
        holds the package would also expose everything else installed beside Runyard, e.g.
        the caller's whole site-packages.) Where links cannot be made (Windows without the
        privilege), the ``.pth`` names the package's parent folder instead.
        """
        host = self._host
        home = os.path.join(env_dir, _HOME)
        os.makedirs(home)
        target: str
        try:
            os.symlink(host.package_dir, os.path.join(home, "runyard"), target_is_directory=True)
            dist_info = os.path.join(home, f"runyard-{host.version}.dist-info")
            os.makedirs(dist_info)
            with open(os.path.join(dist_info, "METADATA"), "w", encoding="utf-8") as f:
                f.write(f"Metadata-Version: 2.1\nName: runyard\nVersion: {host.version}\n")
                f.writelines(f"Requires-Dist: {r}\n" for r in host.base_requirements)
            site = cache.site_packages(env_dir)
            target = os.path.relpath(home, site)  # relative: survives the rename
        except OSError:
            target = os.path.dirname(host.package_dir)
        with open(os.path.join(cache.site_packages(env_dir), _PTH), "w", encoding="utf-8") as f:
            f.write(target + "\n")

    def _run(
        self,
        command: Sequence[str],
        env: Mapping[str, str],
        log: LogFn,
        what: str,
        user_requirements: Sequence[str] = (),
        spec: EnvironmentSpec | None = None,
    ) -> str:
        """Run a uv command, streaming its output (stdout and stderr) to ``log``."""
        try:
            proc = subprocess.Popen(
                list(command),
                env=dict(env),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        except OSError as exc:
            raise EnvironmentBuildError(f"{what} could not be started: {exc}") from exc
        lines: list[str] = []
        with proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip("\n")
                lines.append(line)
                log(line)
            code = proc.wait()
        output = "\n".join(lines)
        if code != 0:
            kept = [line for line in lines if not line.startswith("Using Python ")]
            said = "\n".join(kept).strip()[-_ERROR_TAIL_CHARS:]
            message = f"The environment could not be built: {what} exited with code {code}.\n{said}"
            hint = self._conflict_hint(said, user_requirements, spec)
            raise EnvironmentBuildError(message + (f"\n{hint}" if hint else ""))
        return output

    @staticmethod
    def _installed(uv: str, python: str, env: Mapping[str, str]) -> dict[str, str]:
        """Exactly what is installed in the environment: name -> version."""
        proc = subprocess.run(
            [uv, "pip", "list", "--python", python, "--format", "json"],
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise EnvironmentBuildError(
                f"The environment was built but uv pip list failed: {proc.stderr.strip()}"
            )
        return {p["name"]: p["version"] for p in json.loads(proc.stdout or "[]")}

    def _conflict_hint(
        self, output: str, user_requirements: Sequence[str], spec: EnvironmentSpec | None
    ) -> str:
        if "No solution found" not in output and "conflict" not in output.lower():
            return ""
        ours = {requirement_name(r): r for r in self._host.requirements}
        asked = [requirement_name(r) for r in user_requirements]
        if spec is not None and spec.pip_requirements:
            asked += [requirement_name(line) for line in spec.pip_requirements.splitlines()]
        clashing = sorted({n for n in asked if n in ours})
        if not clashing:
            return ""
        pins = ", ".join(ours[n] for n in clashing)
        return (
            f"Runyard installs its own dependencies into every environment so that "
            f"Run.get_context() works in the script, and the packages asked for conflict "
            f"with {pins}. Relax that pin, or use an existing interpreter with "
            f"user_managed_dependencies=True."
        )

    def _uv_environ(self) -> dict[str, str]:
        env = dict(self._environ)
        for pip_var, uv_var, separator in _PIP_TO_UV:
            if env.get(pip_var) and not env.get(uv_var):
                env[uv_var] = separator.join(env[pip_var].split())
        if env.get("UV_INDEX_URL") or env.get("UV_DEFAULT_INDEX"):
            env.pop("PIP_INDEX_URL", None)
        env.setdefault("UV_PYTHON_DOWNLOADS", "never")
        env.setdefault("NO_COLOR", "1")
        env.pop("VIRTUAL_ENV", None)
        if not env.get("UV_LINK_MODE"):
            link_mode = self._link_mode(env)
            if link_mode:
                env["UV_LINK_MODE"] = link_mode
        return env

    def _link_mode(self, env: Mapping[str, str]) -> str | None:
        """Hardlink from uv's cache when it is on the same file system as ours (fast, no
        extra disk); copy when not (uv would try, warn, and copy anyway). On macOS uv's
        default (copy-on-write clones) is best."""
        if sys.platform == "darwin":
            return None
        try:
            uv_cache = subprocess.run(
                [self._uv or _find_uv(), "cache", "dir"],
                env=dict(env),
                capture_output=True,
                text=True,
                check=True,
                timeout=30,
            ).stdout.strip()
            os.makedirs(self.cache_dir, exist_ok=True)
            same = os.stat(_existing_parent(uv_cache)).st_dev == os.stat(self.cache_dir).st_dev
        except (OSError, subprocess.SubprocessError):
            return "copy"
        return "hardlink" if same else "copy"
