"""ServiceStore contract: web service records on every adapter."""

from __future__ import annotations

import dataclasses
import time

import pytest

from runyard.entities.service import FAILED, HEALTHY, ServiceRecord
from runyard.errors import AlreadyExists, NotFound


def _service(name="svc-a", **changes):
    fields = {
        "compute_type": "ACI",
        "models": ("mnist:1", "extra:3"),
        "scoring_uri": "http://127.0.0.1:8123/score",
        "auth_enabled": True,
        "primary_key": "p" * 43,
        "secondary_key": "s" * 43,
        "config": {"deployment": {"cpu_cores": 1.0}, "inference": {"entry_script": "score.py"}},
        "description": "a model",
        "tags": {"name": "mnist"},
        "properties": {"framework": "keras"},
    }
    fields.update(changes)
    return ServiceRecord(name, **fields)


def test_create_service_keeps_every_field_and_stamps_times(store):
    before = time.time()
    stored = store.create_service(_service())
    assert stored.created_at >= before - 1 and stored.updated_at == stored.created_at
    assert store.get_service("svc-a") == stored
    assert dataclasses.replace(stored, created_at=0.0, updated_at=0.0) == _service()


def test_create_service_with_a_taken_name_needs_overwrite(store):
    store.create_service(_service())
    with pytest.raises(AlreadyExists, match="overwrite=True"):
        store.create_service(_service(description="other"))
    store.create_service(_service(description="other"), overwrite=True)
    assert store.get_service("svc-a").description == "other"


def test_get_missing_service_raises_not_found_naming_the_known_ones(store):
    store.create_service(_service("svc-b"))
    with pytest.raises(NotFound, match=r"'nope'.*svc-b"):
        store.get_service("nope")


def test_update_service_replaces_fields_but_keeps_created_at(store):
    created = store.create_service(_service())
    changed = dataclasses.replace(
        created, state=FAILED, error={"message": "init() raised"}, primary_key="new", tags={}
    )
    updated = store.update_service(changed)
    assert updated.state == FAILED and updated.error == {"message": "init() raised"}
    assert updated.primary_key == "new" and updated.tags == {}
    assert updated.created_at == created.created_at
    assert updated.updated_at >= created.updated_at
    assert store.get_service("svc-a") == updated


def test_update_missing_service_raises_not_found(store):
    with pytest.raises(NotFound):
        store.update_service(_service("ghost"))


def test_list_services_filters_by_model_name_and_compute_type(store):
    store.create_service(_service("svc-a", models=("mnist:1",)))
    store.create_service(_service("svc-b", models=("iris:2",), compute_type="Local"))
    store.create_service(_service("svc-c", models=("mnist:2", "iris:1"), state=HEALTHY))
    assert [s.name for s in store.list_services()] == ["svc-a", "svc-b", "svc-c"]
    assert [s.name for s in store.list_services(model_name="mnist")] == ["svc-a", "svc-c"]
    assert [s.name for s in store.list_services(model_name="mnis")] == []
    assert [s.name for s in store.list_services(compute_type="Local")] == ["svc-b"]


def test_delete_service_forgets_it(store):
    store.create_service(_service())
    store.delete_service("svc-a")
    with pytest.raises(NotFound):
        store.get_service("svc-a")
    with pytest.raises(NotFound):
        store.delete_service("svc-a")


def test_a_record_returned_cannot_change_the_stored_one(store):
    stored = store.create_service(_service())
    stored.tags["name"] = "changed"
    stored.config["deployment"]["cpu_cores"] = 99
    again = store.get_service("svc-a")
    assert again.tags == {"name": "mnist"}
    assert again.config["deployment"]["cpu_cores"] == 1.0


def test_service_records_survive_reopening_the_store(open_store, adapter):
    first = open_store()
    first.create_service(_service())
    first.close()
    second = open_store()
    assert second.get_service("svc-a").models == ("mnist:1", "extra:3")
    second.close()


def test_keys_never_appear_in_a_records_repr():
    record = _service(primary_key="SECRET-ONE", secondary_key="SECRET-TWO")
    assert "SECRET" not in repr(record)
