"""The public names: what ``import runyard`` and the SDK's packages promise. A name added
or removed here is a change to the public API, made on purpose."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "module_name",
    [
        "runyard",
        "runyard.core",
        "runyard.train.hyperdrive",
        "runyard.core.webservice",
        "runyard.core.image",
    ],
)
def test_every_name_in_all_is_importable(module_name):
    module = importlib.import_module(module_name)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{module_name}.{name}"


def test_the_top_level_names_are_pinned():
    import runyard

    assert sorted(runyard.__all__) == sorted(EXPECTED_TOP)


def test_the_sdk_core_names_are_pinned():
    import runyard.core

    assert sorted(runyard.core.__all__) == sorted(EXPECTED_CORE)


EXPECTED_TOP = [
    "AlreadyExists",
    "BackendError",
    "Forbidden",
    "InvalidArgument",
    "InvalidState",
    "NotFound",
    "RunyardError",
    "Unauthorized",
    "__version__",
]
EXPECTED_CORE = [
    "ComputeTarget",
    "Dataset",
    "Datastore",
    "Environment",
    "Experiment",
    "Model",
    "Run",
    "ScriptRunConfig",
    "Webservice",
    "VERSION",
    "Workspace",
]


def test_sdk_v1_code_catches_a_missing_dataset_as_a_user_error(ws):
    from runyard.core import Dataset
    from runyard.exceptions import UserErrorException

    with pytest.raises(UserErrorException, match="mnist-dataset"):
        Dataset.get_by_name(ws, "mnist-dataset")
