"""TrackingStore contract: datastores, compute targets and environments."""

from __future__ import annotations

import pytest

from runyard.entities import ComputeTargetRecord, DatastoreRecord
from runyard.errors import AlreadyExists, NotFound

# -- datastores ------------------------------------------------------------------------


def _datastore(name, default=False, **kwargs):
    return DatastoreRecord(name, f"file:///data/{name}", is_default=default, **kwargs)


def _existing(store):
    """The datastores a store starts with: none, except on REST, whose workspaces are
    created through the API with their default datastore."""
    return {d.name for d in store.list_datastores()}


def _defaults(store, before):
    return {d.name: d.is_default for d in store.list_datastores() if d.name not in before}


def test_save_datastore_keeps_every_field(store):
    record = DatastoreRecord("blob", "s3://bucket/x", kind="s3", options={"anon": True})
    store.save_datastore(record)
    assert store.get_datastore("blob") == record


def test_save_datastore_with_a_taken_name_raises_already_exists_unless_overwrite(store):
    store.save_datastore(_datastore("d"))
    with pytest.raises(AlreadyExists, match="overwrite=True"):
        store.save_datastore(_datastore("d"))
    replacement = DatastoreRecord("d", "file:///elsewhere")
    store.save_datastore(replacement, overwrite=True)
    assert store.get_datastore("d") == replacement


def test_get_datastore_without_name_returns_the_default(store):
    store.save_datastore(_datastore("a"))
    store.save_datastore(_datastore("b", default=True))
    assert store.get_datastore().name == "b"


def test_making_a_datastore_the_default_clears_the_others(store):
    before = _existing(store)
    store.save_datastore(_datastore("a", default=True))
    store.save_datastore(_datastore("b", default=True))
    assert store.get_datastore().name == "b"
    assert _defaults(store, before) == {"a": False, "b": True}
    assert not any(d.is_default for d in store.list_datastores() if d.name in before)
    store.save_datastore(_datastore("a", default=True), overwrite=True)
    assert _defaults(store, before) == {"a": True, "b": False}


def test_get_datastore_without_a_default_raises_not_found(store):
    for record in store.list_datastores():  # REST: the workspace's own default
        record.is_default = False
        store.save_datastore(record, overwrite=True)
    store.save_datastore(_datastore("a"))
    with pytest.raises(NotFound, match=r"no default datastore.*a"):
        store.get_datastore()


def test_get_datastore_of_an_unknown_name_raises_not_found_listing_known_ones(store):
    store.save_datastore(_datastore("known"))
    with pytest.raises(NotFound, match=r"'ghost' not found.*known"):
        store.get_datastore("ghost")


def test_list_datastores_is_sorted_by_name(store):
    before = _existing(store)
    for name in ("c", "a", "b"):
        store.save_datastore(_datastore(name))
    names = [d.name for d in store.list_datastores()]
    assert [n for n in names if n not in before] == ["a", "b", "c"]
    assert names == sorted(names)


# -- compute targets -------------------------------------------------------------------


def _target(name, **config):
    return ComputeTargetRecord(name, "ray", config=config, created_at=123.0)


def test_save_compute_target_keeps_every_field(store):
    record = ComputeTargetRecord(
        "gpucluster", "ray", {"vm_size": "STANDARD_NC6", "max_nodes": 4}, 99.5, "Creating"
    )
    store.save_compute_target(record)
    assert store.get_compute_target("gpucluster") == record


def test_save_compute_target_with_a_taken_name_raises_already_exists_unless_overwrite(store):
    store.save_compute_target(_target("t", max_nodes=1))
    with pytest.raises(AlreadyExists, match="'t'"):
        store.save_compute_target(_target("t", max_nodes=2))
    store.save_compute_target(_target("t", max_nodes=2), overwrite=True)
    assert store.get_compute_target("t").config == {"max_nodes": 2}


def test_list_and_delete_compute_targets(store):
    for name in ("b", "a"):
        store.save_compute_target(_target(name))
    assert [t.name for t in store.list_compute_targets()] == ["a", "b"]
    store.delete_compute_target("a")
    assert [t.name for t in store.list_compute_targets()] == ["b"]


def test_unknown_compute_targets_raise_not_found_listing_known_ones(store):
    store.save_compute_target(_target("local"))
    with pytest.raises(NotFound, match=r"'gpu' not found.*local"):
        store.get_compute_target("gpu")
    with pytest.raises(NotFound, match="'gpu'"):
        store.delete_compute_target("gpu")


# -- environments ----------------------------------------------------------------------

SPEC = {"python": "3.11", "pip": ["keras", "numpy"], "env": {"A": "1"}}


def test_environment_versions_start_at_one_and_keep_the_spec(store):
    first = store.create_environment_version("tf", SPEC)
    assert (first.name, first.version, first.spec) == ("tf", 1, SPEC)
    assert store.get_environment("tf", 1) == first


def test_registering_the_latest_spec_again_returns_that_version(store):
    first = store.create_environment_version("tf", SPEC)
    reordered = {"env": {"A": "1"}, "pip": ["keras", "numpy"], "python": "3.11"}
    again = store.create_environment_version("tf", reordered)
    assert again == first


def test_a_changed_spec_gets_the_next_version_even_if_an_older_version_had_it(store):
    store.create_environment_version("tf", SPEC)
    changed = {**SPEC, "pip": ["keras"]}
    assert store.create_environment_version("tf", changed).version == 2
    assert store.create_environment_version("tf", SPEC).version == 3
    assert store.get_environment("tf").version == 3
    assert store.get_environment("tf", 2).spec == changed


def test_list_environments_returns_the_latest_version_of_each(store):
    store.create_environment_version("b", {"v": 1})
    store.create_environment_version("a", {"v": 1})
    store.create_environment_version("b", {"v": 2})
    assert [(e.name, e.version, e.spec) for e in store.list_environments()] == [
        ("a", 1, {"v": 1}),
        ("b", 2, {"v": 2}),
    ]


def test_unknown_environments_raise_not_found(store):
    store.create_environment_version("tf", SPEC)
    with pytest.raises(NotFound, match="'torch'"):
        store.get_environment("torch")
    with pytest.raises(NotFound, match="'tf' version 5"):
        store.get_environment("tf", 5)
