"""TrackingStore contract: the dataset registry keeps versions exactly and numbers them
1, 2, ... per name."""

from __future__ import annotations

import queue
import threading

import pytest

from runyard.errors import AlreadyExists, InvalidArgument, NotFound


def _definition(*hashes: str) -> dict:
    return {
        "files": [
            {
                "source": "datastore",
                "datastore": "workspaceblobstore",
                "location": f"mnist/{i}.gz",
                "relpath": f"{i}.gz",
                "sha256": h * 64,
                "size": i,
            }
            for i, h in enumerate(hashes)
        ]
    }


def _register(store, name, definition, **kwargs):
    return store.register_dataset_version(
        name, kind="file", definition=definition, fingerprint="f" * 64, **kwargs
    )


def test_a_registered_version_comes_back_with_every_field(store):
    record = _register(
        store, "mnist", _definition("a", "b"), description="digits", tags={"src": "lecun"}
    )
    assert (record.name, record.version, record.kind) == ("mnist", 1, "file")
    got = store.get_dataset("mnist", 1)
    assert got == record
    assert got.definition == _definition("a", "b")
    assert got.tags == {"src": "lecun"} and got.description == "digits"
    assert got.fingerprint == "f" * 64 and got.created_at > 0


def test_registering_the_same_definition_again_returns_the_existing_version(store):
    first = _register(store, "mnist", _definition("a"))
    again = _register(store, "mnist", _definition("a"), create_new_version=True)
    assert again.version == first.version == 1


def test_other_files_under_a_taken_name_need_create_new_version(store):
    _register(store, "mnist", _definition("a"))
    with pytest.raises(AlreadyExists, match="create_new_version=True"):
        _register(store, "mnist", _definition("b"))
    second = _register(store, "mnist", _definition("b"), create_new_version=True)
    assert second.version == 2
    assert store.get_dataset("mnist").version == 2
    assert store.get_dataset("mnist", 1).definition == _definition("a")


def test_a_tabular_dataset_with_a_file_datasets_files_is_another_version(store):
    _register(store, "d", _definition("a"))
    tabular = store.register_dataset_version(
        "d",
        kind="tabular",
        definition=_definition("a"),
        fingerprint="f" * 64,
        create_new_version=True,
    )
    assert tabular.version == 2 and tabular.kind == "tabular"


def test_unknown_name_or_version_is_not_found_listing_the_known_names(store):
    _register(store, "mnist", _definition("a"))
    with pytest.raises(NotFound, match="mnist"):
        store.get_dataset("cifar")
    with pytest.raises(NotFound, match="version 7"):
        store.get_dataset("mnist", 7)


def test_list_gives_the_latest_version_of_each_name_by_name(store):
    _register(store, "zeta", _definition("a"))
    _register(store, "alpha", _definition("a"))
    _register(store, "alpha", _definition("b"), create_new_version=True)
    assert [(d.name, d.version) for d in store.list_datasets()] == [("alpha", 2), ("zeta", 1)]


def test_a_definition_that_is_not_json_is_refused_and_nothing_is_kept(store):
    with pytest.raises(InvalidArgument):
        _register(store, "bad", {"files": [object()]})
    assert store.list_datasets() == []


def test_versions_survive_reopening_the_store(open_store, adapter):
    if adapter == "memory":
        pytest.skip("A memory store's data lives in the store object.")
    store = open_store()
    _register(store, "kept", _definition("a"))
    store.close()
    again = open_store()
    try:
        assert again.get_dataset("kept").definition == _definition("a")
    finally:
        again.close()


def test_threads_registering_new_versions_at_once_get_gapless_versions(store):
    workers, each = 4, 5
    barrier = threading.Barrier(workers)
    got: dict[int, list[int]] = {}
    failures: queue.Queue[BaseException] = queue.Queue()

    def work(worker: int) -> None:
        try:
            barrier.wait(timeout=60)
            got[worker] = [
                _register(
                    store,
                    "shared",
                    _definition(f"{worker:x}{i:x}"[:1]) | {"w": [worker, i]},
                    create_new_version=True,
                ).version
                for i in range(each)
            ]
        except BaseException as exc:
            failures.put(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures.empty(), failures.get()
    versions = sorted(v for vs in got.values() for v in vs)
    assert versions == list(range(1, workers * each + 1))
    assert all(vs == sorted(vs) for vs in got.values())
