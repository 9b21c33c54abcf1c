"""Parsing the command line's small syntaxes: ``KEY=VALUE`` pairs and ``NAME[:VERSION]``."""

from __future__ import annotations

from collections.abc import Iterable

from runyard.errors import InvalidArgument


def parse_pairs(values: Iterable[str], option: str) -> dict[str, str]:
    """``['a=1', 'b=x=y']`` -> ``{'a': '1', 'b': 'x=y'}`` (the first ``=`` splits).

    Raises:
        InvalidArgument: an item has no ``=`` or an empty key.
    """
    result: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidArgument(
                f"{option} {item!r} is not KEY=VALUE; write e.g. {option} stage=prod "
                f"(an empty value is KEY=)."
            )
        result[key.strip()] = value
    return result


def parse_filters(values: Iterable[str], option: str) -> dict[str, str | None]:
    """Filters: ``KEY=VALUE`` (that value) or ``KEY`` (has the key, any value).

    Raises:
        InvalidArgument: an empty key.
    """
    result: dict[str, str | None] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not key.strip():
            raise InvalidArgument(
                f"{option} {item!r} has no key; write {option} KEY=VALUE or {option} KEY."
            )
        result[key.strip()] = value if sep else None
    return result


def parse_model_id(text: str, *, require_version: bool = False) -> tuple[str, int | None]:
    """``'mnist:3'`` -> ``('mnist', 3)``; ``'mnist'`` -> ``('mnist', None)`` (the latest).

    Raises:
        InvalidArgument: the version is not a positive whole number, or it is missing and
            ``require_version``.
    """
    name, sep, version = text.rpartition(":")
    if not sep:
        name, version = text, ""
    if not name:
        raise InvalidArgument(f"Model {text!r} has no name; write NAME or NAME:VERSION.")
    if not version:
        if require_version:
            raise InvalidArgument(
                f"Say which version of model {name!r} to delete: NAME:VERSION, "
                f"e.g. {name}:1 ('runyard model list --name {name}' lists them)."
            )
        if sep:
            raise InvalidArgument(f"Model {text!r} has an empty version; write {name}:VERSION.")
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise InvalidArgument(
            f"Model version {version!r} in {text!r} is not a positive whole number; "
            f"write NAME:VERSION, e.g. {name}:1."
        )
    return name, int(version)
