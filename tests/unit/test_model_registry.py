import os

import pytest

from runyard.core import Experiment, Model
from runyard.errors import AlreadyExists, InvalidArgument, InvalidState, NotFound


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(os.urandom(1024))
    return path


def test_versions_go_up_by_one_per_name(ws, model_file):
    m1 = Model.register(ws, str(model_file), "clf", tags={"a": "1"}, description="first")
    m2 = Model.register(ws, str(model_file), "clf")
    other = Model.register(ws, str(model_file), "other")
    assert (m1.version, m2.version, other.version) == (1, 2, 1)
    assert Model(ws, "clf").version == 2
    assert Model(ws, "clf", version=1).description == "first"
    assert Model(ws, id="clf:1").tags == {"a": "1"}


def test_register_folder_and_download(ws, tmp_path):
    folder = tmp_path / "model"
    (folder / "assets").mkdir(parents=True)
    (folder / "model.keras").write_bytes(b"k")
    (folder / "assets" / "vocab.txt").write_text("v")
    model = Model.register(ws, str(folder), "folder-model", model_framework="Keras")
    target = model.download(str(tmp_path / "dl"))
    assert target == str(tmp_path / "dl" / "model")
    assert (tmp_path / "dl" / "model" / "assets" / "vocab.txt").read_text() == "v"
    with pytest.raises(AlreadyExists):
        model.download(str(tmp_path / "dl"))
    model.download(str(tmp_path / "dl"), exist_ok=True)


def test_register_missing_path_is_not_found(ws):
    with pytest.raises(NotFound):
        Model.register(ws, "/no/such/model", "m")


def test_register_bad_name_is_invalid(ws, model_file):
    with pytest.raises(InvalidArgument):
        Model.register(ws, str(model_file), "bad name/..")


def test_register_folder_with_escaping_symlink_is_refused(ws, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    os.symlink("/etc/passwd", folder / "passwd")
    with pytest.raises(InvalidArgument, match="outside"):
        Model.register(ws, str(folder), "m")
    assert Model.list(ws) == []


def test_list_filters(ws, model_file):
    Model.register(ws, str(model_file), "a", tags={"stage": "dev"}, properties={"acc": "0.9"})
    Model.register(ws, str(model_file), "a", tags={"stage": "prod"})
    Model.register(ws, str(model_file), "b")
    assert [m.id for m in Model.list(ws, name="a")] == ["a:2", "a:1"]
    assert [m.id for m in Model.list(ws, tags=[["stage", "prod"]])] == ["a:2"]
    assert [m.id for m in Model.list(ws, tags=["stage"])] == ["a:2", "a:1"]
    assert [m.id for m in Model.list(ws, properties={"acc": "0.9"})] == ["a:1"]
    assert sorted(m.id for m in Model.list(ws, latest=True)) == ["a:2", "b:1"]
    assert set(ws.models) == {"a", "b"}


def test_tags_properties_description_updates(ws, model_file):
    model = Model.register(ws, str(model_file), "m", properties={"p": "1"})
    model.add_tags({"x": "1", "y": "2"})
    model.remove_tags(["x"])
    model.update(description="better")
    model.add_properties({"q": "2"})
    with pytest.raises(InvalidState):
        model.add_properties({"p": "changed"})
    again = Model(ws, "m")
    assert again.tags == {"y": "2"}
    assert again.description == "better"
    assert again.properties == {"p": "1", "q": "2"}


def test_delete_never_reuses_a_version(ws, model_file):
    Model.register(ws, str(model_file), "m")
    Model(ws, "m").delete()
    with pytest.raises(NotFound):
        Model(ws, "m", version=1)
    assert Model.register(ws, str(model_file), "m").version == 2


def test_register_from_run_keeps_lineage(ws, tmp_path):
    run = Experiment(ws, "train").start_logging()
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.h5").write_bytes(b"w")
    run.upload_folder("outputs/model", str(folder))
    model = run.register_model("keras-dnn-mnist", "outputs/model")
    assert model.run_id == run.id and model.experiment_name == "train"
    assert [m.id for m in Model.list(ws, run_id=run.id)] == ["keras-dnn-mnist:1"]
    path = Model.get_model_path("keras-dnn-mnist", _workspace=ws)
    assert os.path.isfile(os.path.join(path, "weights.h5"))


def test_register_from_run_with_missing_path_lists_files(ws):
    run = Experiment(ws, "train").start_logging()
    run.upload_file("outputs/other.txt", __file__)
    with pytest.raises(NotFound, match=r"outputs/other\.txt"):
        run.register_model("m", "outputs/model")


def test_get_model_path_in_a_deployment_uses_the_model_dir(tmp_path, monkeypatch):
    (tmp_path / "m" / "3" / "model.pkl").parent.mkdir(parents=True)
    (tmp_path / "m" / "3" / "model.pkl").write_bytes(b"x")
    monkeypatch.setenv("RUNYARD_MODEL_DIR", str(tmp_path))
    assert Model.get_model_path("m") == str(tmp_path / "m" / "3" / "model.pkl")


@pytest.mark.parametrize("model_id", ["m:abc", "m:0", "m:-1", "m:1.5", ":3", "m:³", 5])
def test_a_malformed_model_id_is_invalid_argument_with_the_expected_form(ws, model_id):
    with pytest.raises(InvalidArgument, match="NAME:VERSION") as info:
        Model(ws, id=model_id)
    assert repr(model_id) in str(info.value)


def test_a_model_id_without_version_opens_the_latest(ws, model_file):
    Model.register(ws, model_file, "latest")
    Model.register(ws, model_file, "latest")
    assert Model(ws, id="latest").version == 2
    assert Model(ws, id="latest:1").version == 1


def _tree(root):
    return sorted(
        os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
        for d, _, files in os.walk(root)
        for f in files
    )


@pytest.mark.parametrize("spelling", [".", "./", "sub/", "sub", "absolute", "absolute/"])
def test_every_spelling_of_a_folder_downloads_its_files_with_their_whole_names(
    ws, tmp_path, monkeypatch, spelling
):
    project = tmp_path / "project"
    (project / "sub" / "assets").mkdir(parents=True)
    (project / "sub" / "weights.bin").write_bytes(b"w")
    (project / "sub" / "config.json").write_text("{}")
    (project / "sub" / "assets" / "vocab.txt").write_text("v")
    if spelling.startswith("."):
        monkeypatch.chdir(project / "sub")
        path = spelling
    elif spelling.startswith("absolute"):
        path = str(project / "sub") + spelling[len("absolute") :]
    else:
        monkeypatch.chdir(project)
        path = spelling
    Model.register(ws, path, "m")
    target = Model(ws, "m").download(str(tmp_path / "dl"))
    assert os.path.basename(target) == "sub"  # the folder's own name, whatever the spelling
    assert _tree(target) == ["assets/vocab.txt", "config.json", "weights.bin"]
    assert (tmp_path / "dl" / "sub" / "config.json").read_text() == "{}"


def test_a_single_file_downloads_under_its_own_name(ws, tmp_path, monkeypatch):
    (tmp_path / "weights.bin").write_bytes(b"w")
    monkeypatch.chdir(tmp_path)
    Model.register(ws, "./weights.bin", "single")
    target = Model(ws, "single").download(str(tmp_path / "dl"))
    assert target == str(tmp_path / "dl" / "weights.bin")
    assert (tmp_path / "dl" / "weights.bin").read_bytes() == b"w"


def test_a_version_registered_under_dot_still_downloads_whole_names(ws, tmp_path):
    # Versions registered before the fix are kept under ".../VERSION/.".
    (tmp_path / "weights.bin").write_bytes(b"w")
    files = [("./weights.bin", ("local", str(tmp_path / "weights.bin")))]
    Model._create(
        ws,
        "old",
        ".",
        files,
        tags=None,
        properties=None,
        description=None,
        framework=None,
        framework_version=None,
    )
    Model(ws, "old").download(str(tmp_path / "dl"))
    assert (tmp_path / "dl" / "weights.bin").read_bytes() == b"w"
