"""Every ```python and ```bash block of README.md and docs/*.md runs as written, in order.

Each Markdown file is one session in a fresh temporary folder (its working directory):
its python blocks run in one interpreter, sharing their names as a reader's notebook or
REPL would, and its bash blocks run with ``bash -euo pipefail`` in the same folder, with
``runyard`` on PATH (this interpreter's bin folder), at the point where the file shows them.
``RUNYARD_HOME`` is a temporary folder, so nothing touches the developer's workspaces.

A block that cannot run here (a GPU, a remote cluster, cloud credentials, minutes of
training) says so in the Markdown right before it, where readers see it too::

    <!-- runyard-docs: skip (needs a Ray cluster at an address) -->

Each such block is reported as a skipped test with its reason. Blocks in other languages
(``json``, or a fence with no language: output, syntax) are not run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RUN_LANGUAGES = ("python", "bash")
SKIP = re.compile(r"^<!--\s*runyard-docs:\s*skip\s*\((?P<reason>.+)\)\s*-->\s*$")
FENCE = re.compile(r"^```(?P<lang>[\w+-]*)\s*$")
FILE_TIMEOUT_S = 120


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: str  # relative to the repository root
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    skip: str | None  # the reason, when marked to be skipped


def doc_files() -> list[Path]:
    """README.md and every docs/*.md, including those added later."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks_of(path: Path) -> list[Block]:
    """The fenced blocks of ``path`` in order, with their skip markers."""
    rel = path.relative_to(ROOT).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    skip: str | None = None
    i = 0
    while i < len(lines):
        marker = SKIP.match(lines[i].strip())
        fence = FENCE.match(lines[i])
        if marker:
            skip = marker.group("reason").strip()
        elif fence:
            start = i
            body: list[str] = []
            i += 1
            while i < len(lines) and lines[i].rstrip() != "```":
                body.append(lines[i])
                i += 1
            blocks.append(Block(rel, start + 1, fence.group("lang"), "\n".join(body), skip))
            skip = None
        elif lines[i].strip():
            skip = None  # a marker counts only right before its block (blank lines aside)
        i += 1
    return blocks


def _runnable(path: Path) -> list[Block]:
    return [b for b in blocks_of(path) if b.lang in RUN_LANGUAGES and b.skip is None]


def _skipped() -> list[Block]:
    return [b for p in doc_files() for b in blocks_of(p) if b.lang in RUN_LANGUAGES and b.skip]


# The session: python blocks exec'd in one namespace, bash blocks as subprocesses, in order.
_DRIVER = textwrap.dedent(
    """
    import json, subprocess, sys, traceback
    blocks = json.load(open(sys.argv[1], encoding="utf-8"))
    namespace = {"__name__": "__main__"}
    for block in blocks:
        where = f"{block['path']}:{block['line']}"
        print(f"--- {where} ({block['lang']})", flush=True)
        if block["lang"] == "python":
            try:
                exec(compile(block["code"], where, "exec"), namespace)
            except BaseException:
                traceback.print_exc()
                print(f"FAILED: the python block at {where}", flush=True)
                sys.exit(1)
            sys.stdout.flush()
        else:
            code = subprocess.run(["bash", "-euo", "pipefail", "-c", block["code"]]).returncode
            if code != 0:
                print(f"FAILED: the bash block at {where} exited with {code}", flush=True)
                sys.exit(1)
    """
)


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RUNYARD_", "AZUREML_")) or k.startswith("RUNYARD_TEST_")
    }
    bin_dir = os.path.dirname(sys.executable)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env["RUNYARD_HOME"] = str(tmp_path / "runyard-home")
    env["RUNYARD_SCRATCH"] = str(tmp_path / "scratch")
    env["RUNYARD_ENV_CACHE"] = str(tmp_path / "envs")
    env["UV_OFFLINE"] = "1"  # no network: a block that needs a download fails here
    env["PYTHONUNBUFFERED"] = "1"
    env["MPLBACKEND"] = "Agg"
    return env


@pytest.mark.parametrize(
    "doc", [p for p in doc_files() if _runnable(p)], ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_the_code_blocks_of_a_doc_run_in_order(doc: Path, tmp_path: Path) -> None:
    blocks = _runnable(doc)
    work = tmp_path / "work"
    work.mkdir()
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps([b.__dict__ for b in blocks]), encoding="utf-8")
    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(driver), str(spec)],
        cwd=work,
        env=_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=FILE_TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stdout[-6000:]
    ran = [line for line in proc.stdout.splitlines() if line.startswith("--- ")]
    assert len(ran) == len(blocks), proc.stdout[-6000:]


@pytest.mark.parametrize(
    "block", _skipped() or [None], ids=lambda b: f"{b.path}:{b.line}" if b else "none"
)
def test_a_block_marked_skip_says_why(block: Block | None) -> None:
    if block is None:
        return
    assert len(block.skip or "") >= 10, f"{block.path}:{block.line}: say why it is skipped"
    pytest.skip(f"{block.path}:{block.line} not run: {block.skip}")


def test_markers_are_found_right_before_their_block(tmp_path: Path, monkeypatch) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "<!-- runyard-docs: skip (needs a GPU, none here) -->\n\n```python\nx = 1\n```\n"
        "<!-- runyard-docs: skip (stale) -->\ntext between\n```bash\necho hi\n```\n"
        "```json\n{}\n```\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = blocks_of(doc)
    assert [(b.lang, b.line, b.skip) for b in found] == [
        ("python", 3, "needs a GPU, none here"),
        ("bash", 8, None),
        ("json", 11, None),
    ]
