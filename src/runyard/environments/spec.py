"""EnvironmentSpec: what a run needs installed, and the content hash its cache is keyed by.

Canonical form (what the hash sees):

- ``pip_packages`` and ``conda_packages`` are *sets*: surrounding whitespace is stripped,
  duplicates dropped, the order ignored. uv resolves all requirements together, so the order
  they are listed in cannot change what gets installed, and ``['a', 'b']`` and ``['b', 'a']``
  share one environment.
- ``pip_requirements`` keeps its line order (options such as ``--index-url`` may depend on
  it) but drops blank lines, comment lines and surrounding whitespace.
- ``extra_index_urls`` keeps its order: uv searches indexes in the order given.
- Every other field is taken as it is, and a *context* (this interpreter and this Runyard,
  see :class:`runyard.environments.host.RunyardHost`) is hashed along with the spec.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from runyard.environments.package_strings import (
    check_no_control_characters,
    check_package_string,
)
from runyard.errors import InvalidArgument

#: Bumped when the build layout changes so that old cached environments are not reused.
HASH_FORMAT = 1


def _string_tuple(field_name: str, value: object, packages: bool = False) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        raise InvalidArgument(
            f"{field_name} must be a list of strings, got the string {value!r}; "
            f"did you mean [{value!r}]?"
        )
    if not isinstance(value, Iterable):
        raise InvalidArgument(f"{field_name} must be a list of strings, got {value!r}.")
    items = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise InvalidArgument(
                f"{field_name} must hold non-empty strings, got {item!r} in {list(value)!r}."
            )
        # A package string is one line of uv's requirements file: never an option.
        check = check_package_string if packages else check_no_control_characters
        items.append(check(field_name, item.strip()))
    return tuple(items)


def _optional_string(field_name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgument(f"{field_name} must be a string, got {value!r}.")
    return value.strip() or None


def canonical_requirements_text(text: str | None) -> str | None:
    """``text`` without blank lines, comment lines and surrounding whitespace."""
    if text is None:
        return None
    lines = [line.strip() for line in text.splitlines()]
    kept = [line for line in lines if line and not line.startswith("#")]
    return "\n".join(kept) or None


@dataclass(frozen=True)
class EnvironmentSpec:
    """What a run needs installed.

    Attributes:
        pip_packages: Requirement strings installed from PyPI (``"keras"``, ``"six==1.16.0"``).
        conda_packages: Conda package specs (``"numpy=1.26"``), installed from PyPI under the
            same name (SDK v1 compatibility).
        pip_requirements: The text of a requirements file, or None.
        python: The Python version asked for (``"3.11"``), or None for this interpreter's.
            Environments are always built with the interpreter that runs Runyard; a
            different version is reported in the build log.
        user_managed: Use an existing interpreter as it is instead of building one.
        interpreter: The interpreter of a user-managed environment (None: the one running
            Runyard).
        extra_index_urls: Package indexes searched before PyPI.
    """

    pip_packages: tuple[str, ...] = ()
    conda_packages: tuple[str, ...] = ()
    pip_requirements: str | None = None
    python: str | None = None
    user_managed: bool = False
    interpreter: str | None = None
    extra_index_urls: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # Frozen dataclass: normalise the inputs (lists given by users) in place once.
        set_ = object.__setattr__
        set_(self, "pip_packages", _string_tuple("pip_packages", self.pip_packages, True))
        set_(self, "conda_packages", _string_tuple("conda_packages", self.conda_packages, True))
        set_(self, "extra_index_urls", _string_tuple("extra_index_urls", self.extra_index_urls))
        if self.pip_requirements is not None and not isinstance(self.pip_requirements, str):
            raise InvalidArgument(
                f"pip_requirements must be the text of a requirements file, "
                f"got {self.pip_requirements!r}."
            )
        set_(self, "python", _optional_string("python", self.python))
        set_(self, "interpreter", _optional_string("interpreter", self.interpreter))
        if not isinstance(self.user_managed, bool):
            raise InvalidArgument(f"user_managed must be True or False, got {self.user_managed!r}.")

    def canonical(self) -> dict[str, Any]:
        """The spec in canonical form (see the module docstring)."""
        return {
            "pip_packages": sorted(set(self.pip_packages)),
            "conda_packages": sorted(set(self.conda_packages)),
            "pip_requirements": canonical_requirements_text(self.pip_requirements),
            "python": self.python,
            "user_managed": self.user_managed,
            "interpreter": self.interpreter,
            "extra_index_urls": list(self.extra_index_urls),
        }

    def content_hash(self, context: Mapping[str, Any] | None = None) -> str:
        """The sha256 (hex) of the canonical spec and ``context``.

        Args:
            context: What else the environment depends on. None means this interpreter and
                this Runyard (``RunyardHost().context()``: Python version, Runyard version
                and base dependencies, Runyard's path), so that a change of any of them
                builds a new environment.

        Returns:
            64 hexadecimal digits.
        """
        if context is None:
            from runyard.environments.host import RunyardHost

            context = RunyardHost().context()
        document = {"format": HASH_FORMAT, "spec": self.canonical(), "context": dict(context)}
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """The spec as a JSON-able dict (lists in the order given)."""
        return {
            "pip_packages": list(self.pip_packages),
            "conda_packages": list(self.conda_packages),
            "pip_requirements": self.pip_requirements,
            "python": self.python,
            "user_managed": self.user_managed,
            "interpreter": self.interpreter,
            "extra_index_urls": list(self.extra_index_urls),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnvironmentSpec:
        """The spec that :meth:`to_dict` gave; keys it does not know are ignored (they may
        come from a newer Runyard, or be an Environment's other settings).

        Raises:
            InvalidArgument: ``data`` is not a mapping or a field has the wrong type.
        """
        if not isinstance(data, Mapping):
            raise InvalidArgument(f"An environment spec must be a JSON object, got {data!r}.")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
