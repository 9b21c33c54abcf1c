"""Deployment and inference configurations, and service names, as SDK v1 checks them."""

from __future__ import annotations

import pytest

from runyard.core import Environment
from runyard.core.image import ContainerImage
from runyard.core.model import InferenceConfig
from runyard.core.webservice import (
    AciWebservice,
    LocalWebservice,
    Webservice,
    WebserviceException,
)
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


def test_run_calls_at_once_default_to_one_and_reach_the_definition():
    from runyard.core.webservice.deploy import definition_for

    assert AciWebservice.deploy_configuration().max_concurrent_requests == 1
    aci = AciWebservice.deploy_configuration(replica_max_concurrent_requests=4)
    local = LocalWebservice.deploy_configuration(replica_max_concurrent_requests=3)
    assert aci.serialize()["replicaMaxConcurrentRequests"] == 4
    assert local.serialize()["replicaMaxConcurrentRequests"] == 3
    inference = InferenceConfig(entry_script=__file__)
    definition = definition_for("s", (), inference, aci)
    assert definition.max_concurrent_requests == 4
    from runyard.entities.service import ServiceDefinition

    again = ServiceDefinition.from_dict(definition.to_dict())
    assert again.max_concurrent_requests == 4
    old = {k: v for k, v in definition.to_dict().items() if k != "max_concurrent_requests"}
    assert ServiceDefinition.from_dict(old).max_concurrent_requests == 1  # before the setting


@pytest.mark.parametrize("value", [0, 65, 2.0, "4", True])
def test_run_calls_at_once_must_be_a_whole_number_from_1_to_64(value):
    with pytest.raises(InvalidArgument, match=r"replica_max_concurrent_requests .* 1 to 64"):
        AciWebservice.deploy_configuration(replica_max_concurrent_requests=value)
    with pytest.raises(InvalidArgument, match=r"replica_max_concurrent_requests .* 1 to 64"):
        LocalWebservice.deploy_configuration(replica_max_concurrent_requests=value)


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


def test_aks_defaults_are_v1s_autoscaling_with_keys():
    from runyard.core.webservice import AksWebservice

    config = AksWebservice.deploy_configuration()
    assert config.auth and all(config.keys())
    options = config.replicas.serve_options()
    scaling = options["autoscaling_config"]
    assert (scaling["min_replicas"], scaling["max_replicas"]) == (1, 10)
    assert scaling["target_ongoing_requests"] == 0.7
    assert options["ray_actor_options"] == {"num_cpus": 0.1, "memory": 2**29}


def test_aks_fixed_replicas_turn_autoscaling_off():
    from runyard.core.webservice import AksWebservice

    options = AksWebservice.deploy_configuration(num_replicas=3).replicas.serve_options()
    assert options["num_replicas"] == 3 and "autoscaling_config" not in options


@pytest.mark.parametrize(
    "settings",
    [
        {"num_replicas": 0},
        {"num_replicas": 2, "autoscale_enabled": True},
        {"autoscale_min_replicas": 4, "autoscale_max_replicas": 2},
        {"autoscale_target_utilization": 150},
        {"cpu_cores": -1},
    ],
)
def test_aks_settings_v1_refuses(settings):
    from runyard.core.webservice import AksWebservice

    with pytest.raises(InvalidArgument):
        AksWebservice.deploy_configuration(**settings)


def test_an_aks_configuration_needs_a_target_and_a_target_must_be_a_cluster(tmp_path, monkeypatch):
    from runyard.core import Model, Workspace
    from runyard.core.compute import ComputeTarget, LocalCompute
    from runyard.core.webservice import AksWebservice, LocalWebservice

    monkeypatch.setenv("RUNYARD_SCRATCH", str(tmp_path / "scratch"))
    ws = Workspace.create("aks-args", path=tmp_path / "ws")
    (tmp_path / "m.txt").write_text("m")
    (tmp_path / "score.py").write_text("def run(raw):\n    return raw\n")
    model = Model.register(ws, model_path=str(tmp_path / "m.txt"), model_name="m")
    inference = InferenceConfig("score.py", source_directory=str(tmp_path))
    with pytest.raises(WebserviceException, match="needs deployment_target"):
        Model.deploy(ws, "aks-svc", [model], inference, AksWebservice.deploy_configuration())
    with pytest.raises(WebserviceException, match="LocalWebservice runs on this machine"):
        Model.deploy(
            ws,
            "local-svc",
            [model],
            inference,
            LocalWebservice.deploy_configuration(),
            deployment_target="cpucluster",
        )
    with pytest.raises(WebserviceException, match=r"Compute target 'cpucluster'.*not found"):
        Model.deploy(
            ws,
            "aci-svc",
            [model],
            inference,
            AciWebservice.deploy_configuration(),
            deployment_target="cpucluster",
        )
    ComputeTarget.create(ws, "box", LocalCompute.provisioning_configuration())
    monkeypatch.chdir(tmp_path)
    image = ContainerImage.image_configuration(execution_script="score.py", runtime="python")
    with (
        pytest.warns(DeprecationWarning),
        pytest.raises(WebserviceException, match="Compute target 'cpucluster'"),
    ):  # the 2019 form takes a cluster target too
        Webservice.deploy_from_model(
            ws, "v1-svc", [model], image, AksWebservice.deploy_configuration(), "cpucluster"
        )
    with pytest.raises(WebserviceException, match="'box' is not a cluster"):
        Model.deploy(
            ws,
            "aks-svc",
            [model],
            inference,
            AksWebservice.deploy_configuration(),
            deployment_target="box",
        )
    assert ws.webservices == {}
    ws.close()


def test_an_aci_service_on_a_cluster_is_one_replica_of_its_size():
    from runyard.core.webservice.deploy import replica_settings

    config = AciWebservice.deploy_configuration(cpu_cores=0.5, memory_gb=2)
    replicas = replica_settings(config.serialize())
    assert replicas.serve_options()["num_replicas"] == 1
    assert replicas.serve_options()["ray_actor_options"] == {"num_cpus": 0.5, "memory": 2 * 2**30}
    assert "not hard limits" in config.notes(on_cluster=True)[0]
    assert "affinity" in config.notes()[0]  # on this machine: whole CPUs


@pytest.mark.parametrize(
    ("dashboard", "shared", "host", "uri"),
    [
        ("http://127.0.0.1:8265", True, "127.0.0.1", "http://127.0.0.1:9000/s/score"),
        ("http://10.1.2.3:8265", True, "127.0.0.1", "http://127.0.0.1:9000/s/score"),
        ("http://10.1.2.3:8265", False, "10.1.2.3", "http://10.1.2.3:9000/s/score"),
        ("http://localhost:8265", False, "127.0.0.1", "http://127.0.0.1:9000/s/score"),
    ],
)
def test_serves_proxy_listens_where_the_deploying_machine_reaches_it(
    tmp_path, dashboard, shared, host, uri
):
    from types import SimpleNamespace

    from runyard.serving.ray.backend import RayServeBackend
    from runyard.settings import Settings

    resources = SimpleNamespace(settings=Settings(scratch=str(tmp_path)), name="ws")
    backend = RayServeBackend(resources, dashboard, None, shared)  # type: ignore[arg-type]
    assert backend._host({}) == host  # Serve's first start
    assert backend._uri({"http_options": {"host": host}}, 9000, "s") == uri
    running = {"applications": {"a": {}}, "http_options": {"host": "0.0.0.0", "port": 9000}}
    assert backend._host(running) == "0.0.0.0"  # kept once Serve runs
    assert backend._uri(running, 9000, "s").startswith(f"http://{dashboard.split('//')[1][:-5]}")
