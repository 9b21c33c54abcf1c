import os

import pytest

from runyard.core import Experiment, Run
from runyard.core.offline_run import OfflineRun
from runyard.errors import InvalidArgument, InvalidState, NotFound


def test_start_logging_numbers_runs_and_completes(ws):
    exp = Experiment(ws, "e")
    first = exp.start_logging()
    second = exp.start_logging(display_name="second")
    assert (first.number, second.number) == (1, 2)
    assert second.display_name == "second"
    assert first.get_status() == "Running"
    first.complete()
    assert first.status == "Completed"
    details = first.get_details()
    assert details["status"] == "Completed" and details["endTimeUtc"].endswith("Z")


def test_context_manager_completes_or_fails_with_the_error(ws):
    exp = Experiment(ws, "e")
    with exp.start_logging() as ok:
        ok.log("m", 1)
    assert ok.get_status() == "Completed"
    with pytest.raises(ValueError), exp.start_logging() as bad:
        bad.log("m", 1)
        raise ValueError("boom")
    assert bad.get_status() == "Failed"
    assert "boom" in bad.get_details()["error"]["message"]
    assert bad.get_metrics() == {"m": 1.0}


def test_finished_runs_refuse_to_restart(ws):
    run = Experiment(ws, "e").start_logging()
    run.complete()
    with pytest.raises(InvalidState, match="Completed"):
        run.fail("late")
    run.cancel()  # canceling a finished run does nothing
    assert run.get_status() == "Completed"


def test_interactive_cancel_is_immediate(ws):
    run = Experiment(ws, "e").start_logging()
    run.cancel()
    assert run.get_status() == "Canceled"


def test_tags_and_properties(ws):
    run = Experiment(ws, "e").start_logging(tags={"team": "vision"})
    run.tag("lr", 0.01)
    run.set_tags({"a": "1", "b": "2"})
    run.remove_tags(["a"])
    assert run.get_tags() == {"team": "vision", "lr": "0.01", "b": "2"}
    run.add_properties({"seed": "42"})
    run.add_properties({"seed": "42"})
    with pytest.raises(InvalidState):
        run.add_properties({"seed": "43"})
    assert run.get_properties() == {"seed": "42"}


def test_children_and_parent(ws):
    run = Experiment(ws, "e").start_logging()
    kids = [run.child_run(f"c{i}") for i in range(3)]
    grandchild = kids[0].child_run()
    assert {c.id for c in run.get_children()} == {k.id for k in kids}
    assert len(run.get_children(recursive=True)) == 4
    assert grandchild.parent.id == kids[0].id
    assert kids[0].parent.id == run.id


def test_get_runs_filters_children_and_tags(ws):
    exp = Experiment(ws, "e")
    a = exp.start_logging(tags={"k": "1"})
    b = exp.start_logging()
    a.child_run()
    assert [r.id for r in exp.get_runs()] == [b.id, a.id]
    assert [r.id for r in exp.get_runs(tags={"k": "1"})] == [a.id]
    assert len(list(exp.get_runs(include_children=True))) == 3


def test_unknown_run_is_not_found(ws):
    with pytest.raises(NotFound):
        Run.get(ws, "nope")


def test_get_context_outside_a_run_is_offline_and_prints(capsys):
    run = Run.get_context()
    assert isinstance(run, OfflineRun)
    run.log("Accuracy", 0.9)
    assert "Attempted to log scalar metric Accuracy" in capsys.readouterr().out
    assert run.get_metrics() == {"Accuracy": 0.9}
    assert Run.get_context() is run


def test_get_context_refuses_offline_when_asked(monkeypatch):
    import contextvars

    ctx = contextvars.Context()
    with pytest.raises(InvalidState):
        ctx.run(Run.get_context, allow_offline=False)


def test_get_context_in_a_submitted_process_is_the_real_run(ws, monkeypatch):
    import contextvars

    run = Experiment(ws, "e").start_logging()
    monkeypatch.setenv("RUNYARD_RUN_ID", run.id)
    monkeypatch.setenv("RUNYARD_WORKSPACE", ws.config.to_json())
    ctx = contextvars.Context()
    inner = ctx.run(Run.get_context)
    assert inner.id == run.id
    inner.log("m", 3)
    inner.flush()
    assert run.get_metrics() == {"m": 3.0}
    inner.workspace.close()


def test_files_upload_list_download(ws, tmp_path):
    run = Experiment(ws, "e").start_logging()
    src = tmp_path / "a.txt"
    src.write_text("hello")
    run.upload_file("outputs/a.txt", str(src))
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "w.bin").write_bytes(b"1")
    (folder / "sub" / "x.json").write_text("{}")
    run.upload_folder("outputs/model", str(folder))
    assert run.get_file_names() == [
        "outputs/a.txt",
        "outputs/model/sub/x.json",
        "outputs/model/w.bin",
    ]
    out = tmp_path / "dl"
    out.mkdir()
    assert run.download_file("outputs/a.txt", str(out / "a.txt")) == str(out / "a.txt")
    assert (out / "a.txt").read_text() == "hello"
    written = run.download_files("outputs/model", str(tmp_path / "all"))
    assert sorted(os.path.relpath(p, tmp_path / "all") for p in written) == [
        "outputs/model/sub/x.json",
        "outputs/model/w.bin",
    ]


@pytest.mark.parametrize("name", ["../x", "/abs", "a\\b", "%2e%2e/x"])
def test_file_names_that_escape_are_refused(ws, tmp_path, name):
    run = Experiment(ws, "e").start_logging()
    src = tmp_path / "a.txt"
    src.write_text("x")
    with pytest.raises(InvalidArgument):
        run.upload_file(name, str(src))
    with pytest.raises(InvalidArgument):
        run.download_file(name, str(tmp_path / "out"))
    assert run.get_file_names() == []


def test_download_of_missing_file_lists_existing(ws, tmp_path):
    run = Experiment(ws, "e").start_logging()
    run.upload_file("outputs/a.txt", __file__)
    with pytest.raises(NotFound, match=r"outputs/a\.txt"):
        run.download_file("outputs/b.txt", str(tmp_path / "b"))


def test_upload_of_missing_local_file_is_not_found(ws):
    run = Experiment(ws, "e").start_logging()
    with pytest.raises(NotFound):
        run.upload_file("x", "/no/such/file")


def test_interactive_outputs_folder_is_uploaded_on_complete(ws, tmp_path):
    out = tmp_path / "outputs"
    out.mkdir()
    (out / "result.txt").write_text("42")
    run = Experiment(ws, "e").start_logging(outputs=str(out))
    run.complete()
    assert run.get_file_names() == ["outputs/result.txt"]
