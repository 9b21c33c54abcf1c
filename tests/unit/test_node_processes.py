"""Finding and stopping what a script leaves behind (``runyard.node.processes``), in a child
interpreter: adopting orphans changes the process that does it for good."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

_PROGRAM = textwrap.dedent(
    """
    import os, sys, time
    from runyard.node import processes

    def orphan(seconds):
        # A double fork: the middle process exits at once, so the grandchild is orphaned.
        read, write = os.pipe()
        middle = os.fork()
        if middle == 0:
            os.setsid()
            if os.fork() == 0:
                os.write(write, str(os.getpid()).encode())
                time.sleep(seconds)
                os._exit(0)
            os._exit(0)
        os.waitpid(middle, 0)
        os.close(write)
        return int(os.read(read, 32))

    assert processes.adopt_orphans()
    keep = processes.children(os.getpid())
    long_lived, short_lived = orphan(300), orphan(0)
    time.sleep(0.3)  # the short one ends; it is our zombie now
    strays = processes.stray_processes(keep)
    assert strays == [long_lived], (strays, long_lived, short_lived)
    processes.stop_processes(strays, grace_seconds=2.0)
    assert not processes.process_alive(long_lived)
    assert processes.reap_adopted(keep) == 1
    assert processes.children(os.getpid()) - keep == set()
    print("ok")
    """
)


def test_adopted_orphans_are_found_stopped_and_reaped():
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_without_adoption_a_double_forked_daemon_is_nobodys_stray():
    program = _PROGRAM.replace("assert processes.adopt_orphans()", "pass").split("strays =")[0]
    program += "assert processes.stray_processes(keep) == []\nos.kill(long_lived, 9)\nprint('ok')\n"
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_group_that_ignores_sigterm_is_gone_when_kill_process_group_returns():
    from runyard.node import processes

    stubborn = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    leader = subprocess.Popen(
        [sys.executable, "-c", stubborn], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert leader.stdout is not None
        child = int(leader.stdout.readline())
        processes.kill_process_group(leader.pid, grace_seconds=0.3)
        # Returned: nothing of the group runs any more (the leader is at most our zombie).
        assert not processes.group_alive(leader.pid)
        assert not processes.process_alive(child)
    finally:
        leader.kill()
        leader.wait()
        leader.stdout.close()
