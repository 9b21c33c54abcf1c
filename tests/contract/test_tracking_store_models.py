"""TrackingStore contract: the model registry."""

from __future__ import annotations

import pytest

from runyard.errors import InvalidState, NotFound

TEMPLATE = "models/{name}/{version}"


def _register(store, name="mnist", **kwargs):
    kwargs.setdefault("artifact_path_template", f"models/{name}/{{version}}/model")
    return store.create_model_version(name, **kwargs)


def test_versions_start_at_one_and_go_up_by_one_per_name(store):
    assert [_register(store).version for _ in range(3)] == [1, 2, 3]
    assert _register(store, "other").version == 1


def test_create_model_version_fills_the_version_into_the_artifact_path(store):
    model = _register(store, artifact_path_template="models/mnist/{version}/outputs/model")
    assert model.artifact_path == "models/mnist/1/outputs/model"
    assert model.id == "mnist:1"


def test_create_model_version_keeps_every_field_it_is_given(store):
    created = _register(
        store,
        description="a CNN",
        tags={"stage": "dev"},
        properties={"accuracy": "0.99"},
        framework="TensorFlow",
        framework_version="2.16",
        run_id="run-1",
        experiment_name="keras-mnist",
    )
    fetched = store.get_model("mnist", 1)
    assert fetched == created
    assert fetched.description == "a CNN"
    assert fetched.tags == {"stage": "dev"}
    assert fetched.properties == {"accuracy": "0.99"}
    assert (fetched.framework, fetched.framework_version) == ("TensorFlow", "2.16")
    assert (fetched.run_id, fetched.experiment_name) == ("run-1", "keras-mnist")
    assert fetched.created_at > 0


def test_get_model_without_version_returns_the_latest(store):
    for _ in range(3):
        _register(store)
    assert store.get_model("mnist").version == 3
    assert store.get_model("mnist", 2).version == 2


def test_get_model_of_an_unknown_name_raises_not_found(store):
    with pytest.raises(NotFound, match="'ghost' not found"):
        store.get_model("ghost")


def test_get_model_of_an_unknown_version_raises_not_found_listing_versions(store):
    _register(store)
    _register(store)
    with pytest.raises(NotFound, match=r"no version 7. Its versions: 2, 1"):
        store.get_model("mnist", 7)


def test_list_models_returns_newest_first(store):
    _register(store, "a")
    _register(store, "b")
    _register(store, "a")
    assert [m.id for m in store.list_models()] == ["a:2", "b:1", "a:1"]


def test_list_models_filters_by_name_run_tags_and_properties(store):
    _register(store, "a", tags={"stage": "prod"}, properties={"acc": "0.9"}, run_id="r1")
    _register(store, "a", tags={"stage": "dev"}, run_id="r2")
    _register(store, "b", tags={"team": "x"}, properties={"acc": "0.8"})
    assert [m.id for m in store.list_models(name="a")] == ["a:2", "a:1"]
    assert [m.id for m in store.list_models(run_id="r2")] == ["a:2"]
    assert [m.id for m in store.list_models(tags={"stage": "prod"})] == ["a:1"]
    assert [m.id for m in store.list_models(tags={"stage": None})] == ["a:2", "a:1"]
    assert [m.id for m in store.list_models(properties={"acc": "0.8"})] == ["b:1"]
    assert [m.id for m in store.list_models(properties={"acc": None})] == ["b:1", "a:1"]
    assert [m.id for m in store.list_models(tags={"stage": None}, properties={"acc": None})] == [
        "a:1"
    ]
    assert store.list_models(name="ghost") == []


def test_list_models_latest_keeps_the_newest_matching_version_of_each_name(store):
    _register(store, "a", tags={"stage": "prod"})
    _register(store, "b")
    _register(store, "a")
    assert [m.id for m in store.list_models(latest=True)] == ["a:2", "b:1"]
    assert [m.id for m in store.list_models(latest=True, tags={"stage": "prod"})] == ["a:1"]


def test_update_model_changes_description_and_tags_and_adds_properties(store):
    _register(store, tags={"a": "1", "b": "2"}, properties={"p": "1"})
    updated = store.update_model(
        "mnist",
        1,
        description="better",
        add_tags={"c": "3", "a": "9"},
        remove_tags=["b", "never-set"],
        add_properties={"q": "2", "p": "1"},
    )
    assert updated.description == "better"
    assert updated.tags == {"a": "9", "c": "3"}
    assert updated.properties == {"p": "1", "q": "2"}
    assert store.get_model("mnist", 1) == updated
    assert store.update_model("mnist", 1).description == "better"


def test_update_model_refuses_to_change_a_set_property(store):
    _register(store, properties={"p": "1"})
    with pytest.raises(InvalidState, match=r"'p'.*cannot change"):
        store.update_model("mnist", 1, add_properties={"p": "2"})
    assert store.get_model("mnist").properties == {"p": "1"}


def test_update_model_of_an_unknown_version_raises_not_found(store):
    _register(store)
    with pytest.raises(NotFound):
        store.update_model("mnist", 2, description="x")
    with pytest.raises(NotFound):
        store.update_model("ghost", 1, description="x")


def test_delete_model_removes_the_version_and_latest_falls_back(store):
    _register(store, tags={"a": "1"}, properties={"p": "1"})
    _register(store)
    store.delete_model("mnist", 2)
    assert store.get_model("mnist").version == 1
    with pytest.raises(NotFound):
        store.get_model("mnist", 2)
    assert [m.id for m in store.list_models()] == ["mnist:1"]


def test_versions_are_never_reused_after_a_delete(store):
    _register(store)
    _register(store)
    store.delete_model("mnist", 2)
    store.delete_model("mnist", 1)
    with pytest.raises(NotFound):
        store.get_model("mnist")
    assert _register(store).version == 3


def test_delete_model_of_an_unknown_version_raises_not_found(store):
    with pytest.raises(NotFound):
        store.delete_model("ghost", 1)
    _register(store)
    store.delete_model("mnist", 1)
    with pytest.raises(NotFound):
        store.delete_model("mnist", 1)


# -- pending versions (a registration whose files are not complete yet) ---------------


def test_a_pending_version_is_invisible_until_completed(store):
    _register(store, tags={"stage": "prod"})
    pending = _register(store, tags={"stage": "prod"}, run_id="r", pending=True)
    assert pending.version == 2
    assert store.get_model("mnist").version == 1
    with pytest.raises(NotFound, match=r"no version 2. Its versions: 1\.$"):
        store.get_model("mnist", 2)
    assert [m.id for m in store.list_models()] == ["mnist:1"]
    assert [m.id for m in store.list_models(latest=True, tags={"stage": "prod"})] == ["mnist:1"]
    assert store.list_models(run_id="r") == []
    with pytest.raises(NotFound):
        store.update_model("mnist", 2, description="x")
    completed = store.complete_model_version("mnist", 2)
    assert completed == pending
    assert store.get_model("mnist") == pending
    assert [m.id for m in store.list_models(latest=True)] == ["mnist:2"]
    assert store.complete_model_version("mnist", 2) == pending  # completing again is fine


def test_a_pending_only_model_is_not_found_and_its_version_is_not_reused(store):
    _register(store, "new", pending=True)
    with pytest.raises(NotFound, match="'new' not found"):
        store.get_model("new")
    assert _register(store, "new").version == 2
    assert store.get_model("new").version == 2


def test_completing_an_unknown_version_raises_not_found(store):
    with pytest.raises(NotFound):
        store.complete_model_version("ghost", 1)


def test_reaping_removes_only_old_pending_versions_and_never_reuses_their_numbers(store):
    _register(store)
    stale = _register(store, pending=True)
    assert store.reap_pending_model_versions(3600.0) == []  # too young
    reaped = store.reap_pending_model_versions(0.0)
    assert reaped == [stale]
    assert store.reap_pending_model_versions(0.0) == []
    with pytest.raises(NotFound):
        store.complete_model_version("mnist", 2)
    assert _register(store).version == 3
    assert [m.version for m in store.list_models()] == [3, 1]


def test_a_pending_version_can_be_deleted(store):
    _register(store, pending=True)
    store.delete_model("mnist", 1)
    with pytest.raises(NotFound):
        store.complete_model_version("mnist", 1)
