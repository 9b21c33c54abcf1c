"""Finding and stopping what a script leaves behind (``runyard.compute.node``), in a child
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
    from runyard.compute import node

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

    assert node.adopt_orphans()
    keep = node.children(os.getpid())
    long_lived, short_lived = orphan(300), orphan(0)
    time.sleep(0.3)  # the short one ends; it is our zombie now
    strays = node.stray_processes(keep)
    assert strays == [long_lived], (strays, long_lived, short_lived)
    node.stop_processes(strays, grace_seconds=2.0)
    assert not node.process_alive(long_lived)
    assert node.reap_adopted(keep) == 1
    assert node.children(os.getpid()) - keep == set()
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
    program = _PROGRAM.replace("assert node.adopt_orphans()", "pass").split("strays =")[0]
    program += "assert node.stray_processes(keep) == []\nos.kill(long_lived, 9)\nprint('ok')\n"
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
