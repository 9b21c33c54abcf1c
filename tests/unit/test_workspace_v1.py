"""SDK v1's first lines: the Workspace constructors and properties v1 notebooks open with."""

import json

import pytest

import runyard
from runyard.core import VERSION, ComputeTarget, Workspace
from runyard.errors import InvalidArgument, NotFound


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNYARD_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_create_records_the_azure_coordinates_as_labels(home):
    ws = Workspace.create(
        "demo",
        subscription_id="sub-1",
        resource_group="rg",
        location="westeurope",
        create_resource_group=True,
        sku="basic",
        exist_ok=True,
        show_output=False,
    )
    assert (ws.subscription_id, ws.resource_group, ws.location) == ("sub-1", "rg", "westeurope")
    details = ws.get_details()
    assert details["location"] == "westeurope" and details["subscription_id"] == "sub-1"
    marker = json.loads((home / "workspaces" / "demo" / "workspace.json").read_text())
    assert marker["resource_group"] == "rg"
    ws.close()


def test_labels_default_to_empty_strings_so_v1_prints_still_concatenate(tmp_path):
    ws = Workspace.create("plain", path=tmp_path / "w")
    assert "Azure region: " + ws.location == "Azure region: "
    assert ws.subscription_id == "" and ws.resource_group == ""
    ws.close()


def test_v1_constructor_opens_an_existing_workspace_positionally_and_by_keyword(home):
    Workspace.create("demo", subscription_id="sub-1", resource_group="rg").close()
    by_position = Workspace("sub-1", "rg", "demo")
    by_keyword = Workspace(
        subscription_id="sub-1", resource_group="rg", workspace_name="demo", auth=object()
    )
    assert by_position.name == by_keyword.name == "demo"
    assert by_keyword.resource_group == "rg"
    by_position.close()
    by_keyword.close()


def test_v1_constructor_of_an_unknown_workspace_says_how_to_create_it(home):
    with pytest.raises(NotFound, match=r"Workspace.create\('nope'\)"):
        Workspace("sub", "rg", "nope")


def test_v1_constructor_needs_a_workspace_name():
    with pytest.raises(InvalidArgument, match="workspace_name"):
        Workspace("sub", "rg")


def test_get_with_other_recorded_coordinates_is_not_found(home):
    Workspace.create("demo", subscription_id="sub-1").close()
    with pytest.raises(NotFound, match="sub-1"):
        Workspace.get("demo", subscription_id="sub-2")
    ws = Workspace.get("demo", subscription_id="sub-1", resource_group="rg", location="here")
    assert (ws.subscription_id, ws.resource_group, ws.location) == ("sub-1", "rg", "here")
    ws.close()


def test_get_with_a_folder_as_second_argument_points_to_path_keyword(tmp_path):
    with pytest.raises(InvalidArgument, match="path="):
        Workspace.get("demo", str(tmp_path))


def test_create_refuses_an_argument_neither_runyard_nor_v1_has(tmp_path):
    with pytest.raises(InvalidArgument, match="colour"):
        Workspace.create("demo", path=tmp_path / "w", colour="red")


def test_config_json_carries_the_labels_to_from_config(tmp_path, monkeypatch):
    ws = Workspace.create("demo", path=tmp_path / "w", location="lab-1")
    monkeypatch.chdir(tmp_path)
    written = json.loads((tmp_path / ws.write_config()).read_text())
    assert written["location"] == "lab-1"
    found = Workspace.from_config()
    assert found.location == "lab-1"
    found.close()
    ws.close()


def test_v1_config_json_coordinates_are_kept(tmp_path, monkeypatch):
    Workspace.create("demo", path=tmp_path / "w").close()
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "subscription_id": "abc",
                "resource_group": "rg",
                "workspace_name": "demo",
                "path": str(tmp_path / "w"),
            }
        )
    )
    monkeypatch.chdir(tmp_path)
    ws = Workspace.from_config()
    assert (ws.subscription_id, ws.resource_group) == ("abc", "rg")
    ws.close()


def test_compute_targets_maps_names_to_targets_local_included(ws):
    targets = ws.compute_targets
    assert isinstance(targets["local"], ComputeTarget)
    status = targets["local"].get_status().serialize()
    assert isinstance(status["state"], str)
    json.dumps(status)


def test_core_version_is_the_package_version():
    assert runyard.__version__ == VERSION


def test_conda_dependencies_save_to_file_writes_under_base_directory(tmp_path):
    from runyard.core.runconfig import CondaDependencies

    cd = CondaDependencies.create(python_version="3.11")
    cd.add_tensorflow_conda_package()
    cd.add_conda_package("h5py")
    cd.add_pip_package("protobuf==3.20.1")
    written = cd.save_to_file(base_directory=str(tmp_path), conda_file_path="sub/myenv.yml")
    assert written == str(tmp_path / "sub" / "myenv.yml")
    text = (tmp_path / "sub" / "myenv.yml").read_text()
    assert text == cd.serialize_to_string()
    assert "- tensorflow\n" in text and "protobuf==3.20.1" in text
    again = CondaDependencies(written)
    assert again.pip_packages == ["protobuf==3.20.1"]


def test_conda_dependencies_save_to_file_has_v1s_default_name(tmp_path):
    from runyard.core.conda_dependencies import CondaDependencies

    assert CondaDependencies().save_to_file(tmp_path).endswith("conda_dependencies.yml")


def test_tensorflow_package_for_gpu_is_v1s_gpu_name_and_unknown_core_type_is_refused():
    from runyard.core.conda_dependencies import CondaDependencies

    cd = CondaDependencies()
    cd.add_tensorflow_pip_package(core_type="gpu", version="2.2.0")
    assert cd.pip_packages == ["tensorflow-gpu==2.2.0"]
    with pytest.raises(InvalidArgument, match="core_type"):
        cd.add_tensorflow_conda_package(core_type="tpu")
