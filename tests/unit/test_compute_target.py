"""Compute targets: 'local' built in, named local targets, SDK v1 errors and names."""

from __future__ import annotations

import pytest

from runyard.core.compute import ComputeTarget, ComputeTargetException, LocalCompute
from runyard.errors import AlreadyExists, InvalidArgument, NotFound


def test_local_always_exists_and_is_not_stored(ws):
    target = ComputeTarget(ws, "local")
    assert isinstance(target, LocalCompute) and target.max_concurrent_runs is None
    assert ws.resources.store.list_compute_targets() == []
    status = target.get_status()
    assert status.state == "Succeeded" and status.running_runs == 0
    with pytest.raises(InvalidArgument, match="built-in"):
        target.delete()


def test_unknown_target_raises_computetargetexception_naming_known_ones(ws):
    ComputeTarget.create(ws, "cpu", LocalCompute.provisioning_configuration(2))
    with pytest.raises(ComputeTargetException) as err:
        ComputeTarget(workspace=ws, name="gpucluster")
    assert isinstance(err.value, NotFound)
    assert "Known targets: local, cpu" in str(err.value)
    assert "ComputeTarget.create" in str(err.value)


def test_create_get_list_and_delete_a_named_local_target(ws):
    created = ComputeTarget.create(ws, "cpu", LocalCompute.provisioning_configuration(2))
    assert isinstance(created, LocalCompute) and created.max_concurrent_runs == 2
    assert ComputeTarget(ws, "cpu") == created
    assert LocalCompute(ws, "cpu").type == "Local"
    assert [t.name for t in ComputeTarget.list(ws)] == ["local", "cpu"]
    created.wait_for_completion(show_output=False)
    created.delete()
    with pytest.raises(ComputeTargetException):
        ComputeTarget(ws, "cpu")


def test_create_again_is_idempotent_with_the_same_settings_only(ws):
    first = ComputeTarget.create(ws, "cpu", LocalCompute.provisioning_configuration(2))
    again = ComputeTarget.create(ws, "cpu", LocalCompute.provisioning_configuration(2))
    assert again == first
    with pytest.raises(AlreadyExists, match="other settings"):
        ComputeTarget.create(ws, "cpu", LocalCompute.provisioning_configuration(3))


def test_bad_names_and_settings_are_refused(ws):
    with pytest.raises(InvalidArgument, match="built-in target"):
        ComputeTarget.create(ws, "local", LocalCompute.provisioning_configuration())
    with pytest.raises(InvalidArgument):
        ComputeTarget.create(ws, "no spaces", LocalCompute.provisioning_configuration())
    with pytest.raises(InvalidArgument, match="provisioning_configuration"):
        ComputeTarget.create(ws, "cpu", {"max_concurrent_runs": 2})
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(InvalidArgument, match="max_concurrent_runs"):
            LocalCompute.provisioning_configuration(bad)


def test_unknown_kind_in_the_store_is_a_clear_error(ws):
    from runyard.compute.registry import backend_for
    from runyard.entities.compute import ComputeTargetRecord

    record = ComputeTargetRecord("odd", "quantum", {})
    with pytest.raises(InvalidArgument, match="Known kinds: cluster, local, ray"):
        backend_for(ws, record)
