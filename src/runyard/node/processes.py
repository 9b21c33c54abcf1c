"""Facts about the machine an executor runs on: its name, its processes, its GPUs; and
stopping a process group and what a script left behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time


def hostname() -> str:
    return socket.gethostname()


def process_start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (Linux), so that a reused pid is
    not taken for the process it once was; None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def process_alive(pid: int, start_time: int | None = None) -> bool:
    """Whether process ``pid`` runs (and is the one that started at ``start_time``).

    A zombie (exited, not yet reaped) counts as gone.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by someone else
    if _is_zombie(pid):
        return False
    if start_time is not None:
        now = process_start_time(pid)
        if now is not None and now != start_time:
            return False
    return True


def group_alive(pgid: int) -> bool:
    """Whether any process of group ``pgid`` is still running (zombies aside)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if os.path.isdir("/proc"):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.getpgid(int(entry)) == pgid and not _is_zombie(int(entry)):
                        return True
                except OSError:
                    continue
        return False
    return True


#: How long a SIGKILLed process may take to be gone (a large one unmaps its memory first).
KILL_WAIT_SECONDS = 10.0


def kill_process_group(pgid: int, grace_seconds: float = 5.0) -> None:
    """Stop every process of group ``pgid``: SIGTERM, then SIGKILL after ``grace_seconds``
    for those still running. Returns when the group is gone (or, should a process outlast
    even SIGKILL, after :data:`KILL_WAIT_SECONDS` more)."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    except PermissionError:
        return
    if _wait_group_gone(pgid, grace_seconds):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    # Callers go on to reuse what the group held (ports, folders): wait until it is gone.
    _wait_group_gone(pgid, KILL_WAIT_SECONDS)


def _wait_group_gone(pgid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if not group_alive(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


_PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> bool:
    """Make this process the "child subreaper" of everything it starts (Linux).

    A process that a script starts and then abandons (a daemon that double-forks, or one
    started in a session of its own, out of the script's process group) is re-parented to
    this process instead of to init, so :func:`stray_processes` can still find it and the
    run can stop it. Returns False where the system offers no such thing.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        return bool(ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1) == 0)
    except (OSError, AttributeError):
        return False


def _parent_of_each() -> dict[int, int]:
    """pid -> parent pid of every process, from /proc ({} where there is no /proc)."""
    parents: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    fields = fh.read().rsplit(")", 1)[-1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def _children_of(pid: int) -> set[int] | None:
    """The children of ``pid`` from its threads' ``children`` files (Linux 3.5+ with
    ``CONFIG_PROC_CHILDREN``): a few reads instead of one per process on the machine,
    which an executor pays on its way to each script's start and end. None where the
    files are missing (then :func:`_parent_of_each` is read)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None if not os.path.isdir("/proc/self/task") else set()
    found: set[int] = set()
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                found.update(int(child) for child in fh.read().split())
        except FileNotFoundError:
            if os.path.isdir(f"/proc/{pid}/task/{task}"):
                return None  # no children files on this kernel
        except (OSError, ValueError):
            continue  # the thread ended meanwhile
    return found


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` now."""
    found = _children_of(pid)
    if found is not None:
        return found
    return {child for child, parent in _parent_of_each().items() if parent == pid}


def stray_processes(keep: set[int]) -> list[int]:
    """This process's children that are not in ``keep``, and all their descendants: what a
    script left behind once this process adopted its orphans (:func:`adopt_orphans`)."""
    me = os.getpid()
    direct = _children_of(me)
    if direct is not None:
        found = [pid for pid in direct if pid not in keep]
        i = 0
        while i < len(found):
            found.extend(_children_of(found[i]) or ())
            i += 1
        return [pid for pid in found if not _is_zombie(pid)]
    parents = _parent_of_each()
    found = [pid for pid, parent in parents.items() if parent == me and pid not in keep]
    below: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        below.setdefault(parent, []).append(pid)
    i = 0
    while i < len(found):
        found.extend(below.get(found[i], []))
        i += 1
    return [pid for pid in found if not _is_zombie(pid)]


def reap_adopted(keep: set[int]) -> int:
    """Reap this process's exited children that are not in ``keep`` (orphans it adopted
    that ended on their own); how many. A long-lived process that adopts orphans (a Ray
    worker running one run after another) would otherwise collect them as zombies."""
    reaped = 0
    for pid in children(os.getpid()) - keep:
        if _is_zombie(pid):
            with contextlib.suppress(OSError):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    reaped += 1
    return reaped


def stop_processes(pids: list[int], grace_seconds: float = 2.0) -> None:
    """SIGTERM each of ``pids``, SIGKILL those still running after ``grace_seconds``, and
    reap those that are this process's children."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and any(process_alive(pid) for pid in pids):
        time.sleep(0.05)
    for pid in pids:
        if process_alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    # Adopted processes are ours to reap; a killed one may take a moment to exit.
    unreaped = list(pids)
    deadline = time.monotonic() + 1.0
    while unreaped and time.monotonic() < deadline:
        for pid in list(unreaped):
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    unreaped.remove(pid)
            except OSError:  # not our child (or gone): its own parent reaps it
                unreaped.remove(pid)
        if unreaped:
            time.sleep(0.02)


def gpu_count() -> int:
    """GPUs this node can give a run: ``nvidia-smi -L``'s count, 0 when there is no NVIDIA
    driver or ``CUDA_VISIBLE_DEVICES`` hides them all."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return 0
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    count = sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))
    if visible:
        count = min(count, len([v for v in visible.split(",") if v.strip()]))
    return count
