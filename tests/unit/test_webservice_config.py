"""Deployment and inference configurations, and service names, as SDK v1 checks them."""

from __future__ import annotations

import pytest

from runyard.core import Environment
from runyard.core.image import ContainerImage
from runyard.core.model import InferenceConfig
from runyard.core.webservice import AciWebservice, LocalWebservice, WebserviceException
from runyard.entities.service import check_service_name
from runyard.errors import InvalidArgument


@pytest.mark.parametrize("name", ["abc", "keras-mnist-svc", "a" * 32, "s1-2"])
def test_service_names_that_v1_accepts(name):
    assert check_service_name(name) == name


@pytest.mark.parametrize("name", ["ab", "a" * 33, "Abc", "1abc", "abc-", "a_bc", "a.bc", None])
def test_service_names_that_v1_refuses(name):
    with pytest.raises(InvalidArgument, match="3 to 32 lowercase"):
        check_service_name(name)


def test_aci_defaults_are_v1s_and_keys_come_only_with_auth():
    config = AciWebservice.deploy_configuration()
    assert (config.cpu_cores, config.memory_gb, config.auth) == (0.1, 0.5, False)
    assert config.keys() == ("", "") and config.notes() == []
    with_auth = AciWebservice.deploy_configuration(auth_enabled=True)
    primary, secondary = with_auth.keys()
    assert primary and secondary and primary != secondary


def test_aci_keys_given_are_kept_and_checked():
    config = AciWebservice.deploy_configuration(
        auth_enabled=True, primary_key="p" * 20, secondary_key="s" * 20
    )
    assert config.keys() == ("p" * 20, "s" * 20)
    with pytest.raises(InvalidArgument):
        AciWebservice.deploy_configuration(auth_enabled=True, primary_key="short")
    with pytest.raises(WebserviceException, match="auth_enabled=True"):
        AciWebservice.deploy_configuration(primary_key="p" * 20)


def test_aci_sizes_must_be_positive_and_cloud_settings_are_noted():
    with pytest.raises(InvalidArgument, match="cpu_cores"):
        AciWebservice.deploy_configuration(cpu_cores=0)
    config = AciWebservice.deploy_configuration(cpu_cores=1.5, memory_gb=2, ssl_enabled=True)
    notes = config.notes()
    assert len(notes) == 3
    assert "runs on 2 CPU(s)" in notes[0] and "memory_gb=2" in notes[1]
    assert "ssl_enabled" in notes[2]


def test_only_the_sizes_given_are_enforced_not_v1s_defaults():
    assert AciWebservice.deploy_configuration().limits() == (None, None)
    assert AciWebservice.deploy_configuration(memory_gb=1).limits() == (None, 1.0)
    assert AciWebservice.deploy_configuration(cpu_cores=0.5).limits() == (0.5, None)
    assert LocalWebservice.deploy_configuration().limits() == (None, None)


@pytest.mark.parametrize(
    ("cores", "allowed", "count"),
    [(0.1, {0, 1}, 1), (1, {0, 1, 2, 3}, 1), (1.01, {0, 1, 2, 3}, 2), (8, {2, 5}, 2)],
)
def test_a_service_gets_whole_cpus_from_those_allowed(cores, allowed, count):
    from runyard.serving.local.limits import cpu_set

    cpus = cpu_set("svc", cores, allowed)
    assert len(cpus) == count and cpus <= allowed
    assert cpu_set("svc", cores, allowed) == cpus  # the same for the same name


def test_services_spread_over_the_cpus_by_name():
    from runyard.serving.local.limits import cpu_set

    picked = {min(cpu_set(f"svc-{i}", 1, set(range(8)))) for i in range(40)}
    assert len(picked) > 4


def test_a_definition_keeps_its_limits_and_refuses_bad_ones():
    from runyard.entities.service import ServiceDefinition

    definition = ServiceDefinition("s", "score.py", "/src", cpu_cores=1.5, memory_gb=0.25)
    again = ServiceDefinition.from_dict(definition.to_dict())
    assert (again.cpu_cores, again.memory_gb) == (1.5, 0.25)
    with pytest.raises(InvalidArgument, match="Not a service definition"):
        ServiceDefinition.from_dict({**definition.to_dict(), "memory_gb": -1})


@pytest.mark.parametrize("port", [0, 70000, "80", True])
def test_local_port_must_be_a_port_number(port):
    with pytest.raises(InvalidArgument, match="1 to 65535"):
        LocalWebservice.deploy_configuration(port=port)


def test_inference_config_checks_its_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WebserviceException, match=r"\.py file"):
        InferenceConfig(entry_script="score.txt")
    with pytest.raises(WebserviceException, match="not found"):
        InferenceConfig(entry_script="score.py")
    with pytest.raises(WebserviceException, match="does not exist"):
        InferenceConfig(entry_script="score.py", source_directory=tmp_path / "none")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "score.py").write_text("def run(d):\n    return d\n")
    config = InferenceConfig(entry_script="score.py", source_directory=tmp_path / "app")
    assert config.shipped() == (str((tmp_path / "app").resolve()), "score.py", ())


def test_inference_config_without_a_source_directory_ships_only_the_script(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "score.py").write_text("def run(d):\n    return d\n")
    assert InferenceConfig(entry_script="score.py").shipped()[1:] == ("score.py", ("score.py",))


def test_inference_config_refuses_environment_arguments_with_an_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "score.py").write_text("def run(d):\n    return d\n")
    (tmp_path / "myenv.yml").write_text("dependencies:\n  - python=3.11\n")
    with pytest.raises(WebserviceException, match="conda_file"):
        InferenceConfig("score.py", conda_file="myenv.yml", environment=Environment("e"))
    with pytest.raises(WebserviceException, match="runtime"):
        InferenceConfig("score.py", runtime="java")
    with pytest.raises(WebserviceException, match="not found"):
        InferenceConfig("score.py", runtime="python", conda_file="other.yml")
    config = InferenceConfig("score.py", runtime="python", conda_file="myenv.yml")
    assert config.environment_spec().python == "3.11"


def test_container_image_configuration_becomes_an_inference_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "score.py").write_text("def run(d):\n    return d\n")
    image = ContainerImage.image_configuration(execution_script="score.py", runtime="python")
    assert image.inference_config().entry_script == "score.py"
    with pytest.raises(WebserviceException, match="docker_file"):
        ContainerImage.image_configuration("score.py", "python", docker_file="Dockerfile")


def test_webservice_exception_has_v1s_import_path():
    from runyard.exceptions import WebserviceException as FromExceptions

    assert FromExceptions is WebserviceException
