"""When a script cannot start from a forked copy of the launcher's interpreter, the reason
(the executor falls back to a new interpreter and logs it)."""

from __future__ import annotations

import os
import sys

import pytest

from runyard.node.warm_script import WarmScript, same_interpreter


@pytest.fixture
def warm():
    """A WarmScript that never forked: only its checks are used."""
    start_up = {"PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}
    return WarmScript(pid=0, control=-1, stdout=-1, stderr=-1, start_up=start_up)


def _env(**extra):
    return {"PYTHONHASHSEED": "0", "LANG": "C.UTF-8", "PYTHONPATH": "/x", **extra}


def test_the_same_interpreter_with_the_same_start_up_variables_can_start_warm(warm, tmp_path):
    script = tmp_path / "train.py"
    script.write_text("pass\n")
    assert warm.unusable([sys.executable, str(script), "--x", "1"], _env()) is None
    # PYTHONPATH and PYTHONUNBUFFERED are applied in the child: they may differ.
    assert warm.unusable([sys.executable, str(script)], _env(PYTHONUNBUFFERED="1")) is None


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"PYTHONHASHSEED": "1"}, "PYTHONHASHSEED"),
        ({"PYTHONOPTIMIZE": "2"}, "PYTHONOPTIMIZE"),
        ({"LD_PRELOAD": "/lib/x.so"}, "LD_PRELOAD"),
        ({"LANG": "de_DE.UTF-8"}, "LANG"),
    ],
)
def test_other_start_up_variables_need_a_new_interpreter(warm, tmp_path, variables, named):
    script = tmp_path / "train.py"
    script.write_text("pass\n")
    why = warm.unusable([sys.executable, str(script)], _env(**variables))
    assert why == f"start-up variables differ from the launcher's: {named}"


def test_another_interpreter_or_command_needs_a_new_interpreter(warm, tmp_path):
    script = tmp_path / "train.py"
    script.write_text("pass\n")
    other = tmp_path / "bin" / "python"
    other.parent.mkdir()
    os.symlink(os.path.realpath(sys.executable), other)  # a venv's python: a link
    assert "is not the launcher's" in warm.unusable([str(other), str(script)], _env())
    assert "is not `python SCRIPT" in warm.unusable([sys.executable, "-c", "pass"], _env())
    assert "not a plain file" in warm.unusable([sys.executable, str(tmp_path)], _env())


def test_a_used_warm_script_is_not_used_again(warm, tmp_path):
    warm._control = None
    assert (
        warm.unusable([sys.executable, str(tmp_path / "t.py")], _env()) == "it was used or closed"
    )


def test_same_interpreter_compares_the_file_and_its_folder(tmp_path):
    assert same_interpreter(sys.executable)
    assert not same_interpreter(str(tmp_path / "missing-python"))
