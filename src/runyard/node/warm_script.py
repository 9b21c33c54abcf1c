"""Starting a run's script without a new interpreter: a pre-warmed, forked child.

A script started as ``python train.py`` pays the interpreter's start-up (the site packages'
``.pth`` files, the imports it shares with the executor: Runyard itself) and, at its end,
the interpreter's shutdown. For a sweep of short trials that is a large part of each trial.

When an executor is forked from a warm launcher (:mod:`runyard.compute.local.forkserver`),
it forks one more child at once, before it starts any thread: a :class:`WarmScript`, a copy
of the launcher's interpreter with everything already imported, that waits. When the
script's interpreter is that same interpreter, the executor hands it the script's command
line, working folder and environment variables, and the child becomes the script:

- its own session and process group (stopped as a whole, as a fresh script is);
- stdin from ``/dev/null``, stdout and stderr to the executor's pipes (streamed to the run's
  driver log), unbuffered when ``PYTHONUNBUFFERED`` is set, as the interpreter would;
- ``sys.argv``, the working folder, ``os.environ``, and ``sys.path`` as a fresh interpreter
  builds it (the script's folder, then ``PYTHONPATH``, then the interpreter's own);
- the script runs as module ``__main__`` (``if __name__ == "__main__"`` holds, functions it
  defines pickle, ``multiprocessing`` finds it);
- its end as the interpreter's: ``sys.exit(n)`` gives ``n`` (``sys.exit("text")`` prints
  the text and gives 1), an uncaught exception prints its traceback (the script's frames
  only) and gives 1, a ``KeyboardInterrupt`` ends it by SIGINT; non-daemon threads are
  joined, then ``atexit`` handlers run (the run's metric buffer is flushed there), then the
  streams are flushed; a missing script gives 2 and the interpreter's message.

What a forked interpreter cannot change once started makes it fall back to
``python train.py`` (:meth:`WarmScript.unusable` says why, in the executor's log): another
interpreter, another value of a ``PYTHON*`` variable that acts at start-up (``PYTHONHASHSEED``,
``PYTHONOPTIMIZE``...), another ``LD_*`` variable (the dynamic loader's) or locale, a script
that is not a plain file; and ``RUNYARD_WARM_SCRIPTS=0`` turns it off. One thing differs,
and is documented: forked scripts share their launcher's string hash seed (``random`` is
reseeded in each, as Python does after every fork).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO

#: Variables a script's environment may set to other values than the launcher's: they are
#: read after start-up (``PYTHONPATH`` is applied to ``sys.path`` here,
#: ``PYTHONUNBUFFERED`` to the streams).
_APPLIED_HERE = frozenset({"PYTHONPATH", "PYTHONUNBUFFERED"})


def _start_up_variables(env: Mapping[str, str]) -> dict[str, str]:
    """The variables that act when an interpreter starts (and cannot act later)."""
    return {
        k: v
        for k, v in env.items()
        if (k.startswith("PYTHON") and k not in _APPLIED_HERE)
        or k.startswith(("LD_", "LC_"))
        or k == "LANG"
    }


def same_interpreter(python: str, executable: str | None = None) -> bool:
    """Whether ``python`` is this interpreter: the same file in the same folder (a virtual
    environment's ``bin/python`` is a link to its base interpreter, and is not it)."""
    executable = executable or sys.executable
    try:
        return os.path.dirname(os.path.abspath(python)) == os.path.dirname(
            os.path.abspath(executable)
        ) and os.path.samefile(python, executable)
    except OSError:
        return False


class ForkedScript:
    """The script started from a :class:`WarmScript`, seen like a ``subprocess.Popen``:
    ``pid``, ``stdout``, ``stderr``, ``poll()``, ``wait(timeout)``, ``returncode``."""

    def __init__(self, pid: int, stdout: IO[bytes], stderr: IO[bytes]) -> None:
        self.pid = pid
        self.stdout = stdout
        self.stderr = stderr
        self.returncode: int | None = None
        self._pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):  # Linux 5.3+
            self._pidfd = os.pidfd_open(pid)

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped by someone else: its code is lost
                self._set(1)
            else:
                if pid == self.pid:
                    self._set(os.waitstatus_to_exitcode(status))
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is not None:
            return self.returncode
        if timeout is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self._set(os.waitstatus_to_exitcode(status))
            except ChildProcessError:
                self._set(1)
            return self.returncode if self.returncode is not None else 1
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            if self._pidfd is not None:
                select.select([self._pidfd], [], [], left)  # readable once it exits
            else:
                time.sleep(min(left, 0.01))
        return self.returncode if self.returncode is not None else 1

    def _set(self, code: int) -> None:
        self.returncode = code
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


class WarmScript:
    """A forked copy of this interpreter, waiting to become a run's script.

    Made by :meth:`fork` while the process is single-threaded (an executor forked from the
    warm launcher, before it starts its threads). Used once (:meth:`start`) or closed
    (:meth:`close`, or the executor's exit: the child sees its pipe close and ends).

    Args:
        pid: the waiting child.
        control: the pipe its start request goes to.
        stdout: the read end of its stdout.
        stderr: the read end of its stderr.
        start_up: the start-up variables (:func:`_start_up_variables`) of this interpreter.
    """

    def __init__(
        self, pid: int, control: int, stdout: int, stderr: int, start_up: dict[str, str]
    ) -> None:
        self.pid = pid
        self._control: int | None = control
        self._stdout: int | None = stdout
        self._stderr: int | None = stderr
        self._start_up = start_up

    @classmethod
    def fork(cls, base_path: Sequence[str], start_up_env: Mapping[str, str]) -> WarmScript:
        """Fork the waiting child.

        Args:
            base_path: this interpreter's own ``sys.path`` (no script folder, no
                ``PYTHONPATH``): what a fresh one would have after them.
            start_up_env: the variables this interpreter was started with.

        Raises:
            OSError: the pipes or the fork failed.
        """
        control_r, control_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: wait, then become the script (never returns)
            for fd in (control_w, out_r, err_r):
                os.close(fd)
            _wait_and_run(control_r, out_w, err_w, list(base_path))
        for fd in (control_r, out_w, err_w):
            os.close(fd)
        return cls(pid, control_w, out_r, err_r, _start_up_variables(start_up_env))

    def unusable(self, command: Sequence[str], env: Mapping[str, str]) -> str | None:
        """Why ``command`` with ``env`` cannot start from this child (None: it can)."""
        if self._control is None:
            return "it was used or closed"
        if len(command) < 2 or command[1].startswith("-"):
            return f"the command {list(command)!r} is not `python SCRIPT ...`"
        if not same_interpreter(command[0]):
            return f"its interpreter {command[0]} is not the launcher's ({sys.executable})"
        if not os.path.isfile(command[1]) and os.path.exists(command[1]):
            return f"{command[1]} is not a plain file"
        wanted = _start_up_variables(env)
        if wanted != self._start_up:
            both = set(wanted) | set(self._start_up)
            names = sorted(k for k in both if wanted.get(k) != self._start_up.get(k))
            return f"start-up variables differ from the launcher's: {', '.join(names)}"
        return None

    def start(self, command: Sequence[str], cwd: str, env: Mapping[str, str]) -> ForkedScript:
        """Make the child run ``command`` (``python SCRIPT ARGS...``) in ``cwd`` with ``env``.

        Raises:
            OSError: the child is gone (its pipe is closed).
        """
        if self._control is None or self._stdout is None or self._stderr is None:
            raise OSError("the warm script child was used or closed")
        request = json.dumps({"argv": list(command[1:]), "cwd": cwd, "env": dict(env)}).encode()
        control, self._control = self._control, None
        try:
            view = memoryview(request)
            while view:
                view = view[os.write(control, view) :]
        finally:
            os.close(control)
        stdout, stderr = os.fdopen(self._stdout, "rb"), os.fdopen(self._stderr, "rb")
        self._stdout = self._stderr = None
        return ForkedScript(self.pid, stdout, stderr)

    def close(self) -> None:
        """Let the child go unused (it exits) and reap it."""
        for fd in (self._control, self._stdout, self._stderr):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if self._control is not None:
            self._control = self._stdout = self._stderr = None
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)


# -- the child ---------------------------------------------------------------------------------
def _wait_and_run(control: int, out: int, err: int, base_path: list[str]) -> None:
    """In the forked child: read the start request (EOF without one: exit quietly), become
    the script, and exit as its interpreter would. Never returns."""
    code = 1
    try:
        chunks = []
        while chunk := os.read(control, 65536):
            chunks.append(chunk)
        os.close(control)
        if not chunks:
            os._exit(0)
        request = json.loads(b"".join(chunks))
        code = _become_script(request["argv"], request["cwd"], request["env"], out, err, base_path)
    except BaseException:  # our own failure, not the script's: say it where the run shows it
        with contextlib.suppress(BaseException):
            import traceback

            traceback.print_exc()
    finally:
        os._exit(code)


def _become_script(
    argv: list[str], cwd: str, env: dict[str, str], out: int, err: int, base_path: list[str]
) -> int:
    """Set the process up as ``python ARGV...`` in ``cwd`` with ``env`` would be, run the
    script, and finish as the interpreter does; the exit code (or never returns, for an
    ending by signal)."""
    import io

    os.setsid()  # its own group: cancel stops the script and what it started
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.closerange(3, 65536)  # as Popen's close_fds: the script inherits 0, 1, 2 only
    for number in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    unbuffered = bool(env.get("PYTHONUNBUFFERED"))
    encoding, errors = sys.stdout.encoding, sys.stdout.errors
    buffering = 0 if unbuffered else -1
    # The streams live as long as the process: no context manager can hold them.
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(  # type: ignore[misc]
        open(0, "rb", closefd=False),  # noqa: SIM115
        encoding=encoding,
        errors=errors,
    )
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(  # type: ignore[misc]
        open(1, "wb", buffering=buffering, closefd=False),  # noqa: SIM115
        encoding=encoding,
        errors=errors,
        write_through=unbuffered,
    )
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(  # type: ignore[misc]
        open(2, "wb", buffering=buffering, closefd=False),  # noqa: SIM115
        encoding=encoding,
        errors="backslashreplace",
        line_buffering=True,
        write_through=unbuffered,
    )
    script = argv[0]
    sys.argv = list(argv)
    path = [os.path.dirname(os.path.abspath(script))]
    path += [os.path.abspath(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    path += base_path
    sys.path[:] = list(dict.fromkeys(path))
    sys.path_importer_cache.clear()
    if "multiprocessing" in sys.modules:  # it keeps the folder it was imported from
        sys.modules["multiprocessing"].process.ORIGINAL_DIR = cwd
    code = _run_main(script)
    return _finish(code)


def _run_main(script: str) -> int | BaseException:
    """Run ``script`` as module ``__main__``; its exit code, or the KeyboardInterrupt that
    ended it."""
    import builtins
    import importlib.machinery
    import types

    try:
        with open(script, "rb") as fh:
            source = fh.read()
    except OSError as exc:  # the interpreter's own words and code
        print(
            f"{sys.executable}: can't open file {script!r}: [Errno {exc.errno}] {exc.strerror}",
            file=sys.stderr,
        )
        return 2
    main = types.ModuleType("__main__")
    main.__file__ = script
    main.__builtins__ = builtins  # type: ignore[attr-defined]
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", script)
    main.__cached__ = None  # type: ignore[attr-defined]
    main.__spec__ = None
    main.__package__ = None
    sys.modules["__main__"] = main
    try:
        code = compile(source, script, "exec", dont_inherit=True)
        exec(code, main.__dict__)
    except SystemExit as exc:
        return _exit_code(exc)
    except KeyboardInterrupt as exc:
        _print_exception(exc)
        return exc
    except BaseException as exc:
        _print_exception(exc)
        return 1
    return 0


def _exit_code(exc: SystemExit) -> int:
    """The exit status the interpreter gives for ``SystemExit(exc.code)``."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    with contextlib.suppress(Exception):
        sys.stderr.write(f"{code}\n")
    return 1


def _print_exception(exc: BaseException) -> None:
    """Print an uncaught exception as the interpreter does, without this module's frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    # The hook prints the exception's own traceback when it has one: shorten that.
    exc.__traceback__ = tb
    with contextlib.suppress(Exception):
        sys.excepthook(type(exc), exc, tb)


def _finish(code: int | BaseException) -> int:
    """The interpreter's shutdown: join non-daemon threads, run ``atexit`` handlers, flush
    the streams; then the exit code (a KeyboardInterrupt ends the process by SIGINT)."""
    import atexit
    import threading

    with contextlib.suppress(BaseException):
        threading._shutdown()  # type: ignore[attr-defined]
    with contextlib.suppress(BaseException):  # it reports a failing handler itself
        atexit._run_exitfuncs()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    if isinstance(code, BaseException):
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        return 130
    return code
