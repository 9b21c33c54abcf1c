"""A service's ``cpu_cores`` and ``memory_gb`` on this machine, without cgroups.

- ``cpu_cores``: the supervisor pins itself, before it starts the scoring server, to
  ``ceil(cpu_cores)`` of the CPUs it may use (its children inherit the affinity), and the
  usual thread-count variables say as many, so numpy, BLAS and TensorFlow size their pools
  to it. Which CPUs is spread by the service name, so that services do not all share
  the first ones.
- ``memory_gb``: a :class:`MemoryWatch` thread adds up the resident memory of every
  process of the service's session but the supervisor (the scoring server and whatever
  ``score.py`` started) and kills them all with SIGKILL past the limit, as the kernel's
  OOM killer stops a container over its memory limit. Resident memory, not address space:
  TensorFlow and BLAS reserve gigabytes of address space they never touch, which
  ``RLIMIT_AS`` would count.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import zlib
from collections.abc import Callable

#: How often the memory watch looks, in seconds.
WATCH_EVERY_S = 0.1
#: Thread-pool sizes that libraries read, set to the CPUs a service has.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    # TensorFlow's pool for independent ops (tf.data's input pipeline in Keras' predict
    # among them): sized to the machine's cores otherwise, more threads than CPUs.
    "TF_NUM_INTEROP_THREADS",
)
_PAGE = os.sysconf("SC_PAGE_SIZE")
GB = 1 << 30


def cpu_set(name: str, cpu_cores: float, allowed: set[int]) -> set[int]:
    """The CPUs a service named ``name`` runs on: ``ceil(cpu_cores)`` of ``allowed`` (all
    of them when it asks for more), starting at a place picked by the name."""
    ordered = sorted(allowed)
    count = min(len(ordered), max(1, math.ceil(cpu_cores - 1e-9)))
    start = zlib.crc32(name.encode()) % len(ordered)
    return {ordered[(start + i) % len(ordered)] for i in range(count)}


def pin_cpus(name: str, cpu_cores: float, env: dict[str, str]) -> set[int]:
    """Pin this process (and so the children it starts next) to the service's CPUs and
    set the thread-count variables in ``env`` that the service does not set itself.

    Returns:
        The CPUs.
    """
    cpus = cpu_set(name, cpu_cores, os.sched_getaffinity(0))
    os.sched_setaffinity(0, cpus)
    for variable in THREAD_VARIABLES:
        env.setdefault(variable, str(len(cpus)))
    return cpus


def session_rss(session: int, exclude: int) -> int:
    """The resident bytes of the processes of ``session``, but ``exclude``."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == exclude:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                data = fh.read()
        except OSError:  # gone meanwhile
            continue
        fields = data[data.rfind(b")") + 2 :].split()
        # After the name: state (field 3) ... session (6) ... rss in pages (24).
        if len(fields) > 21 and int(fields[3]) == session:
            total += int(fields[21]) * _PAGE
    return total


class MemoryWatch(threading.Thread):
    """Kills the service's processes (not the supervisor) once their resident memory
    passes ``limit_bytes``.

    Args:
        limit_bytes: the limit.
        on_kill: called once, with the resident bytes seen, before the kill.
    """

    def __init__(self, limit_bytes: int, on_kill: Callable[[int], None]) -> None:
        super().__init__(name="runyard-memory-watch", daemon=True)
        self._limit = limit_bytes
        self._on_kill = on_kill
        self._done = threading.Event()

    def stop(self) -> None:
        """Stop watching (the scoring server exited)."""
        self._done.set()

    def run(self) -> None:
        me = os.getpid()
        session = os.getsid(0)
        while not self._done.wait(WATCH_EVERY_S):
            used = session_rss(session, me)
            if used > self._limit:
                self._on_kill(used)
                self._kill_all(session, me)
                return

    @staticmethod
    def _kill_all(session: int, me: int) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == me:
                continue
            try:
                if os.getsid(int(entry)) == session:
                    os.kill(int(entry), signal.SIGKILL)
            except OSError:
                continue
