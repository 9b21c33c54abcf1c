"""ScriptRunConfig, Estimator and TensorFlow/PyTorch: what a submission checks and records
(no process is started here: build_definition is the submit path up to the snapshot)."""

from __future__ import annotations

import pathlib

import pytest

from runyard.core import Environment, Experiment, ScriptRunConfig
from runyard.core.compute_target import ComputeTargetException
from runyard.core.runconfig import RunConfiguration
from runyard.core.submission import build_definition
from runyard.errors import InvalidArgument, NotFound
from runyard.train.dnn import PyTorch, TensorFlow
from runyard.train.estimator import Estimator


@pytest.fixture
def src(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.py").write_text("print('hi')\n")
    (folder / "util.py").write_text("")
    return folder


@pytest.fixture
def exp(ws):
    return Experiment(ws, "defs")


def _definition(exp, config):
    return build_definition(exp, config)[0].to_dict()


def test_arguments_become_command_line_strings(exp, src):
    config = ScriptRunConfig(str(src), "train.py", arguments=["--lr", 0.001, "--n", 5, True])
    assert _definition(exp, config)["arguments"] == ["--lr", "0.001", "--n", "5", "True"]


def test_arguments_given_as_one_string_or_a_dict_are_refused(src):
    with pytest.raises(InvalidArgument, match=r"\['--lr', '1'\]"):
        ScriptRunConfig(str(src), "train.py", arguments="--lr 1")
    with pytest.raises(InvalidArgument, match="script_params"):
        ScriptRunConfig(str(src), "train.py", arguments={"--lr": 1})


def test_an_argument_that_cannot_go_on_a_command_line_is_refused(exp, src):
    config = ScriptRunConfig(str(src), "train.py", arguments=["--x", object()])
    with pytest.raises(InvalidArgument, match="Argument 1"):
        _definition(exp, config)
    config = ScriptRunConfig(str(src), "train.py", arguments=[float("nan")])
    with pytest.raises(InvalidArgument, match="finite"):
        _definition(exp, config)


@pytest.mark.parametrize("argument", ["a\x00b", pathlib.PurePosixPath("data\x00.csv")])
def test_an_argument_with_a_nul_is_refused_at_submit_not_queued(exp, src, argument):
    config = ScriptRunConfig(str(src), "train.py", arguments=["--in", argument])
    with pytest.raises(InvalidArgument, match=r"Argument 1 .* NUL character"):
        exp.submit(config)
    assert list(exp.get_runs()) == []


def test_data_reference_argument_travels_as_its_dict(exp, src, ws):
    ref = ws.get_default_datastore().path("mnist").as_mount()
    definition = _definition(exp, ScriptRunConfig(str(src), "train.py", arguments=["--d", ref]))
    travelled = definition["arguments"][1]
    assert travelled == ref.to_dict()
    assert travelled["mode"] == "mount" and travelled["path_on_datastore"] == "mnist"


def test_missing_entry_script_is_a_clear_error_listing_python_files(exp, src):
    with pytest.raises(NotFound) as err:
        _definition(exp, ScriptRunConfig(str(src), "trian.py"))
    assert "trian.py" in str(err.value) and "train.py, util.py" in str(err.value)


def test_missing_source_directory_and_script_outside_it_are_refused(exp, src, tmp_path):
    with pytest.raises(NotFound, match="source_directory"):
        _definition(exp, ScriptRunConfig(str(tmp_path / "nope"), "train.py"))
    (tmp_path / "outside.py").write_text("")
    with pytest.raises(InvalidArgument, match="outside source_directory"):
        _definition(exp, ScriptRunConfig(str(src), "../outside.py"))
    with pytest.raises(InvalidArgument, match="No script"):
        _definition(exp, ScriptRunConfig(str(src)))


def test_unknown_target_names_the_known_ones(exp, src, ws):
    from runyard.core.compute_target import ComputeTarget, LocalCompute

    ComputeTarget.create(ws, "cpu", LocalCompute.provisioning_configuration(2))
    with pytest.raises(ComputeTargetException) as err:
        _definition(exp, ScriptRunConfig(str(src), "train.py", compute_target="gpucluster"))
    assert isinstance(err.value, NotFound)
    assert "gpucluster" in str(err.value) and "local, cpu" in str(err.value)


def test_several_nodes_on_this_machine_are_refused(exp, src):
    rc = RunConfiguration()
    rc.node_count = 2
    with pytest.raises(InvalidArgument, match="2 nodes"):
        _definition(exp, ScriptRunConfig(str(src), "train.py", run_config=rc))
    with pytest.raises(InvalidArgument, match="node_count"):
        rc.node_count = 0


def test_environment_is_recorded_as_its_spec(exp, src):
    env = Environment("my-env")
    env.python.user_managed_dependencies = True
    env.environment_variables = {"A": "1"}
    definition = _definition(exp, ScriptRunConfig(str(src), "train.py", environment=env))
    assert definition["environment"]["name"] == "my-env"
    assert definition["environment"]["spec"]["user_managed"] is True
    assert definition["environment"]["environmentVariables"] == {"A": "1"}
    default = _definition(exp, ScriptRunConfig(str(src), "train.py"))
    assert default["environment"]["spec"]["pip_packages"] == []
    assert default["target"] == "local"
    with pytest.raises(InvalidArgument, match="Environment"):
        _definition(exp, ScriptRunConfig(str(src), "train.py", environment="my-env"))


def test_command_and_bad_duration_are_refused(src):
    with pytest.raises(InvalidArgument, match="command"):
        ScriptRunConfig(str(src), command=["python", "train.py"])
    with pytest.raises(InvalidArgument, match="max_run_duration_seconds"):
        ScriptRunConfig(str(src), "train.py", max_run_duration_seconds=-1)


@pytest.mark.parametrize("bad", [0, -5, 0.5, float("nan"), float("inf"), "60", True])
def test_a_duration_that_is_not_a_positive_number_of_seconds_is_refused_however_set(src, bad):
    with pytest.raises(InvalidArgument, match="max_run_duration_seconds"):
        ScriptRunConfig(str(src), "train.py", max_run_duration_seconds=bad)
    config = ScriptRunConfig(str(src), "train.py", max_run_duration_seconds=90.7)
    with pytest.raises(InvalidArgument, match="max_run_duration_seconds"):
        config.run_config.max_run_duration_seconds = bad  # as SDK v1 code sets it
    assert config.run_config.max_run_duration_seconds == 90
    config.run_config.max_run_duration_seconds = None
    assert config.run_config.max_run_duration_seconds is None


def test_submitting_something_else_is_refused(exp):
    with pytest.raises(InvalidArgument, match="ScriptRunConfig"):
        exp.submit({"script": "train.py"})


def test_a_refused_submission_records_no_run(exp, src):
    with pytest.raises(NotFound):
        exp.submit(ScriptRunConfig(str(src), "missing.py"))
    assert list(exp.get_runs()) == []


# -- estimators ---------------------------------------------------------------------------


def test_estimator_script_params_become_arguments(exp, src, ws):
    ref = ws.get_default_datastore().path("mnist").as_mount()
    est = Estimator(
        str(src),
        entry_script="train.py",
        script_params={"--data-folder": ref, "--batch-size": 50, "--verbose": None},
        pip_packages=["six"],
    )
    typed, _ = build_definition(exp, est._to_script_run_config())
    definition, resources = typed.to_dict(), typed.resources
    assert definition["arguments"][0] == "--data-folder"
    assert definition["arguments"][1]["path_on_datastore"] == "mnist"
    assert definition["arguments"][2:] == ["--batch-size", "50", "--verbose"]
    assert definition["environment"]["spec"]["pip_packages"] == ["six"]
    assert resources.gpus == 0 and definition["framework"] == "Python"


def test_tensorflow_adds_tensorflow_and_keras_once(src):
    est = TensorFlow(str(src), entry_script="train.py", pip_packages=["keras", "matplotlib"])
    pip = est.environment.to_spec().pip_packages
    assert sorted(pip) == ["keras", "matplotlib", "tensorflow"]
    pinned = TensorFlow(str(src), entry_script="train.py", framework_version="2.16")
    assert "tensorflow==2.16.*" in pinned.environment.to_spec().pip_packages
    own = TensorFlow(str(src), entry_script="train.py", pip_packages=["tensorflow-cpu==2.16.1"])
    assert "tensorflow" not in own.environment.to_spec().pip_packages


def test_pytorch_adds_torch_and_checks_the_version(src):
    est = PyTorch(str(src), entry_script="train.py", framework_version="2.3")
    assert est.environment.to_spec().pip_packages == ("torch==2.3.*",)
    with pytest.raises(InvalidArgument, match="framework_version"):
        PyTorch(str(src), entry_script="train.py", framework_version="latest")


def test_use_gpu_and_inputs_are_recorded(exp, src, ws):
    ref = ws.get_default_datastore().path("mnist").as_download()
    est = TensorFlow(str(src), entry_script="train.py", use_gpu=True, inputs=[ref])
    typed, _ = build_definition(exp, est._to_script_run_config())
    definition, resources = typed.to_dict(), typed.resources
    assert definition["useGpu"] is True and resources.gpus == 1
    assert definition["framework"] == "TensorFlow"
    assert definition["inputs"] == [ref.to_dict()]


def test_estimator_refuses_packages_with_an_environment_definition(src):
    with pytest.raises(InvalidArgument, match="not both"):
        Estimator(
            str(src),
            entry_script="train.py",
            pip_packages=["six"],
            environment_definition=Environment("e"),
        )


def test_estimator_needs_an_entry_script_and_a_dict_of_params(src):
    with pytest.raises(InvalidArgument, match="entry_script"):
        Estimator(str(src))
    with pytest.raises(InvalidArgument, match="script_params"):
        Estimator(str(src), entry_script="train.py", script_params=["--lr", 1])
    with pytest.raises(InvalidArgument, match="unexpected"):
        Estimator(str(src), entry_script="train.py", bogus=1)


def test_docker_settings_become_notes_in_the_run(exp, src):
    est = Estimator(str(src), entry_script="train.py", custom_docker_image="me/img:1")
    definition = _definition(exp, est._to_script_run_config())
    assert any("custom_docker_image" in note for note in definition["notes"])
