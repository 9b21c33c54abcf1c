"""EnvironmentSpec hashing and the SDK v1 front (Environment, CondaDependencies).

Decision tested here: the order of pip and conda packages does not change the hash (uv
resolves them together, so the same set gives the same environment); the order of extra
index URLs does (uv searches them in order).
"""

from __future__ import annotations

import dataclasses
import sys
import types
from typing import Any

import pytest

from runyard.core.conda_dependencies import CondaDependencies
from runyard.core.environment import Environment
from runyard.entities import EnvironmentRecord
from runyard.environments import EnvironmentSpec, default_cache_dir
from runyard.environments.conda_file import read_conda_file
from runyard.environments.host import RunyardHost
from runyard.environments.requirements import conda_to_pip, plan_install, requirement_name
from runyard.errors import InvalidArgument, NotFound

CONTEXT = {
    "python": "3.11.7",
    "implementation": "cpython",
    "interpreter": "/usr/bin/python3.11",
    "runyard": "0.1.0",
    "runyard_requires": ["click>=8.1", "uv>=0.4"],
    "runyard_path": "/src/runyard",
}

BASE = EnvironmentSpec(
    pip_packages=("keras", "six==1.16.0"),
    conda_packages=("numpy=1.26",),
    pip_requirements="tomli\n",
    python="3.11",
    user_managed=False,
    interpreter=None,
    extra_index_urls=("https://a.example/simple",),
)


# -- hashing ---------------------------------------------------------------------------


def test_hash_is_stable_and_pinned() -> None:
    # A fixed value: if this changes, cached environments are rebuilt; bump HASH_FORMAT
    # on purpose rather than by accident.
    assert BASE.content_hash(CONTEXT) == BASE.content_hash(dict(CONTEXT))
    assert BASE.content_hash(CONTEXT) == (
        "4a1d3af280a20ffcfeeb8e291d5f33143a5b672623bf7d3594283b982037628e"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"pip_packages": ("keras", "six==1.17.0")},
        {"conda_packages": ("numpy=1.25",)},
        {"pip_requirements": "tomli==2.0.1"},
        {"python": "3.12"},
        {"user_managed": True},
        {"interpreter": "/opt/python"},
        {"extra_index_urls": ("https://b.example/simple",)},
    ],
)
def test_hash_changes_with_every_field(change: dict[str, Any]) -> None:
    assert set(change) <= {f.name for f in dataclasses.fields(EnvironmentSpec)}
    assert dataclasses.replace(BASE, **change).content_hash(CONTEXT) != BASE.content_hash(CONTEXT)


def test_every_field_is_covered_by_the_sensitivity_test() -> None:
    covered = {
        "pip_packages",
        "conda_packages",
        "pip_requirements",
        "python",
        "user_managed",
        "interpreter",
        "extra_index_urls",
    }
    assert {f.name for f in dataclasses.fields(EnvironmentSpec)} == covered


@pytest.mark.parametrize(
    "key, value",
    [
        ("python", "3.12.1"),
        ("runyard", "0.2.0"),
        ("runyard_requires", ["click>=8.2", "uv>=0.4"]),
        ("runyard_path", "/other/checkout/src/runyard"),
        ("interpreter", "/usr/local/bin/python3.11"),
    ],
)
def test_hash_changes_with_python_and_runyard(key: str, value: Any) -> None:
    assert BASE.content_hash({**CONTEXT, key: value}) != BASE.content_hash(CONTEXT)


def test_package_order_duplicates_and_whitespace_do_not_change_the_hash() -> None:
    shuffled = dataclasses.replace(
        BASE, pip_packages=(" six==1.16.0", "keras", "keras"), conda_packages=("numpy=1.26 ",)
    )
    assert shuffled.content_hash(CONTEXT) == BASE.content_hash(CONTEXT)


def test_requirements_comments_and_blank_lines_do_not_change_the_hash() -> None:
    commented = dataclasses.replace(BASE, pip_requirements="# pinned\n\n  tomli  \n")
    assert commented.content_hash(CONTEXT) == BASE.content_hash(CONTEXT)


def test_index_url_order_changes_the_hash() -> None:
    one = EnvironmentSpec(extra_index_urls=("https://a/simple", "https://b/simple"))
    other = EnvironmentSpec(extra_index_urls=("https://b/simple", "https://a/simple"))
    assert one.content_hash(CONTEXT) != other.content_hash(CONTEXT)


def test_default_context_is_this_interpreter_and_runyard() -> None:
    host = RunyardHost()
    assert BASE.content_hash() == BASE.content_hash(host.context())
    context = host.context()
    assert context["python"] == ".".join(map(str, sys.version_info[:3]))
    assert any(r.startswith("uv") for r in context["runyard_requires"])
    assert not any("extra" in r for r in context["runyard_requires"])


# -- the spec's fields -------------------------------------------------------------------


def test_to_dict_and_from_dict_round_trip_and_ignore_unknown_keys() -> None:
    data = BASE.to_dict()
    assert EnvironmentSpec.from_dict(data) == BASE
    assert EnvironmentSpec.from_dict({**data, "environment_variables": {"A": "1"}}) == BASE
    assert data["pip_packages"] == ["keras", "six==1.16.0"]


def test_lists_become_tuples_so_the_spec_is_hashable() -> None:
    spec = EnvironmentSpec(pip_packages=["keras"])  # type: ignore[arg-type]
    assert spec.pip_packages == ("keras",)
    assert hash(spec) == hash(EnvironmentSpec(pip_packages=("keras",)))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pip_packages": "keras"},
        {"conda_packages": ["numpy", 3]},
        {"pip_packages": [""]},
        {"pip_requirements": ["keras"]},
        {"user_managed": "yes"},
        {"python": 3.11},
    ],
)
def test_malformed_fields_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        EnvironmentSpec(**kwargs)


def test_a_string_instead_of_a_list_says_what_to_write() -> None:
    with pytest.raises(InvalidArgument, match=r"did you mean \['keras'\]"):
        EnvironmentSpec(pip_packages="keras")  # type: ignore[arg-type]


# -- from spec to requirements -----------------------------------------------------------


@pytest.mark.parametrize(
    "conda, pip",
    [
        ("numpy", "numpy"),
        ("numpy=1.26", "numpy==1.26.*"),
        ("numpy=1.26.*", "numpy==1.26.*"),
        ("numpy=1.26.4=py311h64a7726_0", "numpy==1.26.4.*"),
        ("numpy==1.26.4", "numpy==1.26.4"),
        ("scipy>=1.10,<2", "scipy>=1.10,<2"),
        ("conda-forge::scikit-learn", "scikit-learn"),
        ("pytorch", "torch"),
        ("python=3.8", None),
        ("pip", None),
        ("cudatoolkit=11.8", None),
    ],
)
def test_conda_specs_become_pip_requirements(conda: str, pip: str | None) -> None:
    requirement, line = conda_to_pip(conda)
    assert requirement == pip
    if pip is None:
        assert line.startswith(f"conda package {conda!r} skipped: ")
    else:
        assert line == f"conda package {conda!r} installed from PyPI as {pip!r}"


def test_plan_logs_each_conda_package_and_skips_sdk_packages() -> None:
    lines: list[str] = []
    spec = EnvironmentSpec(
        pip_packages=("keras", "azureml-defaults", "runyard>=0.1"),
        conda_packages=("matplotlib",),
        pip_requirements="azureml-core==1.0\nsix\n",
    )
    plan = plan_install(spec, ("click>=8.1",), lines.append)
    assert plan.user_requirements == ("keras", "matplotlib")
    assert "conda package 'matplotlib' installed from PyPI as 'matplotlib'" in lines
    assert any("'azureml-defaults' skipped" in line for line in lines)
    assert any("'runyard>=0.1' skipped" in line for line in lines)
    assert plan.requirements_text is not None and "azureml" not in plan.requirements_text
    text = plan.requirements_file()
    assert text.index("click>=8.1") < text.index("keras") < text.index("six")


@pytest.mark.parametrize(
    "requirement, name",
    [("Six==1.16", "six"), ("scikit_learn>=1", "scikit-learn"), ("keras[jax]", "keras")],
)
def test_requirement_name_is_normalised(requirement: str, name: str) -> None:
    assert requirement_name(requirement) == name


def test_cache_dir_comes_from_the_environment_variable_then_the_user_cache(tmp_path) -> None:
    assert default_cache_dir({"RUNYARD_ENV_CACHE": str(tmp_path)}) == str(tmp_path)
    assert default_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == str(
        tmp_path / "runyard" / "envs"
    )
    assert default_cache_dir({}).endswith("/.cache/runyard/envs")


# -- CondaDependencies -------------------------------------------------------------------


def test_conda_dependencies_create_and_add_like_sdk_v1() -> None:
    deps = CondaDependencies.create(
        pip_packages=["keras", "six==1.16.0"], conda_packages=["numpy"], python_version="3.11"
    )
    deps.add_pip_package("six==1.17.0")  # same name: replaced
    deps.add_conda_package("scipy")
    assert deps.pip_packages == ["keras", "six==1.17.0"]
    assert deps.conda_packages == ["numpy", "scipy"]
    assert deps.get_python_version() == "3.11"
    deps.remove_pip_package("keras")
    assert deps.pip_packages == ["six==1.17.0"]


def test_python_as_a_conda_package_sets_the_python_version() -> None:
    deps = CondaDependencies()
    deps.add_conda_package("python=3.8.10")
    assert deps.conda_packages == []
    assert deps.get_python_version() == "3.8.10"


def test_pip_index_options_reach_the_spec() -> None:
    env = Environment("idx")
    env.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["keras"], pip_indexurl="https://mirror/simple"
    )
    env.python.conda_dependencies.set_pip_option("--extra-index-url https://extra/simple")
    spec = env.to_spec()
    assert spec.extra_index_urls == ("https://extra/simple",)
    assert spec.pip_requirements == "--index-url https://mirror/simple"


def test_create_refuses_a_string_for_a_package_list() -> None:
    with pytest.raises(InvalidArgument, match="did you mean"):
        CondaDependencies.create(pip_packages="keras")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "package", ["numpy\n--index-url http://x", "-r /etc/passwd", "-e /etc", " --pre", "a\x1b[2J"]
)
def test_a_package_string_that_pip_would_read_as_an_option_is_refused(package: str) -> None:
    for make in (
        lambda: CondaDependencies.create(pip_packages=[package]),
        lambda: CondaDependencies.create(conda_packages=[package]),
        lambda: EnvironmentSpec(pip_packages=(package,)),
        lambda: EnvironmentSpec(conda_packages=(package,)),
    ):
        with pytest.raises(InvalidArgument, match=r"control character|starts with '-'") as info:
            make()
        assert "\n" not in str(info.value)


def test_the_refusal_names_the_explicit_settings_for_pip_options() -> None:
    with pytest.raises(InvalidArgument, match=r"pip_indexurl=URL.*from_pip_requirements"):
        CondaDependencies().add_pip_package("--index-url=http://x")


def test_a_pip_option_with_a_line_break_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="control character"):
        CondaDependencies.create(pip_indexurl="https://mirror/simple\n-e /etc")
    with pytest.raises(InvalidArgument, match="control character"):
        EnvironmentSpec(extra_index_urls=("https://x/simple\r\n-e /etc",))


def test_conda_file_is_read_and_written(tmp_path) -> None:
    path = tmp_path / "environment.yml"
    path.write_text(
        "name: demo  # comment\n"
        "channels:\n  - conda-forge\n"
        "dependencies:\n"
        "  - python=3.11\n  - numpy=1.26\n"
        "  - pip:\n    - keras\n    - '--extra-index-url https://x/simple#frag'\n"
        "  - scipy\n"
    )
    assert read_conda_file(str(path)) == (
        "demo",
        ["conda-forge"],
        ["python=3.11", "numpy=1.26", "scipy"],
        ["keras", "--extra-index-url https://x/simple#frag"],
    )
    env = Environment.from_conda_specification("demo", path)
    spec = env.to_spec()
    assert spec.conda_packages == ("numpy=1.26", "scipy")
    assert spec.pip_packages == ("keras",)
    assert spec.python == "3.11"
    copy = tmp_path / "copy.yml"
    env.python.conda_dependencies.save(copy)
    assert Environment.from_conda_specification("demo", copy).to_spec() == spec


def test_a_malformed_conda_file_is_refused_with_its_line(tmp_path) -> None:
    path = tmp_path / "environment.yml"
    path.write_text("dependencies: [numpy, scipy]\n")
    with pytest.raises(InvalidArgument, match=r"environment\.yml:1"):
        CondaDependencies(path)


# -- Environment -------------------------------------------------------------------------


def test_environment_to_spec_reflects_the_python_section() -> None:
    env = Environment("keras-env")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["keras"])
    assert env.to_spec() == EnvironmentSpec(pip_packages=("keras",))
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = "/usr/bin/python3"
    spec = env.to_spec()
    assert spec.user_managed and spec.interpreter == "/usr/bin/python3"


def test_environment_name_is_checked() -> None:
    with pytest.raises(InvalidArgument):
        Environment("no spaces allowed")


def test_from_pip_requirements_reads_included_files(tmp_path) -> None:
    (tmp_path / "base.txt").write_text("six==1.16.0\n")
    (tmp_path / "requirements.txt").write_text("-r base.txt\ntomli\n")
    env = Environment.from_pip_requirements("req", tmp_path / "requirements.txt")
    assert env.to_spec().pip_requirements == "six==1.16.0\ntomli"


def test_from_pip_requirements_with_a_missing_file_says_which() -> None:
    with pytest.raises(InvalidArgument, match=r"nope\.txt"):
        Environment.from_pip_requirements("req", "nope.txt")


class FakeStore:
    """The environment part of TrackingStore, in memory."""

    def __init__(self) -> None:
        self.versions: dict[str, list[dict[str, Any]]] = {}

    def create_environment_version(self, name: str, spec: dict[str, Any]) -> EnvironmentRecord:
        versions = self.versions.setdefault(name, [])
        if not versions or versions[-1] != spec:
            versions.append(spec)
        return EnvironmentRecord(name, len(versions), versions[-1])

    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord:
        versions = self.versions.get(name, [])
        number = version or len(versions)
        if not 1 <= number <= len(versions):
            raise NotFound(f"no {name} {version}")
        return EnvironmentRecord(name, number, versions[number - 1])

    def list_environments(self) -> list[EnvironmentRecord]:
        return [self.get_environment(name) for name in self.versions]


class FakeWorkspace:
    name = "demo"

    def __init__(self) -> None:
        self.resources = types.SimpleNamespace(store=FakeStore())


def test_register_get_and_list() -> None:
    ws = FakeWorkspace()
    env = Environment("keras-env")
    env.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["keras"], conda_packages=["numpy"]
    )
    env.environment_variables = {"TF_CPP_MIN_LOG_LEVEL": "2"}
    registered = env.register(ws)
    assert registered.version == env.version == "1"
    assert env.register(ws).version == "1"  # unchanged: same version
    env.python.conda_dependencies.add_pip_package("matplotlib")
    assert env.register(ws).version == "2"

    first = Environment.get(ws, "keras-env", version=1)
    assert first.to_spec().pip_packages == ("keras",)
    assert first.environment_variables == {"TF_CPP_MIN_LOG_LEVEL": "2"}
    latest = Environment.get(ws, "keras-env")
    assert latest.version == "2" and latest.to_spec() == env.to_spec()
    assert list(Environment.list(ws)) == ["keras-env"]


def test_get_unknown_environment_lists_the_known_ones() -> None:
    ws = FakeWorkspace()
    Environment("known").register(ws)
    with pytest.raises(NotFound, match=r"'missing' not found in workspace 'demo'.*known"):
        Environment.get(ws, "missing")
    with pytest.raises(InvalidArgument):
        Environment.get(ws, "known", version="latest")


def test_registered_dict_is_a_spec_the_executor_can_read() -> None:
    env = Environment("e")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["keras"])
    assert EnvironmentSpec.from_dict(env.to_dict()) == env.to_spec()


def test_register_and_get_through_a_real_workspace(ws) -> None:
    env = Environment("sql-env")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["six==1.16.0"])
    assert env.register(ws).version == "1"
    assert Environment.get(ws, "sql-env").to_spec() == env.to_spec()
