"""Checks on the package strings and pip options users give.

Package strings end up as lines of the requirements file uv installs, so a newline in one
("numpy\\n--index-url http://x") or a leading ``-`` ("-r FILE", "-e /etc") would turn a
package name into a pip option: an index nobody asked for, a file read from anywhere, an
editable install of any folder. Those are refused here; options have explicit settings
(``CondaDependencies.create(pip_indexurl=...)``, ``set_pip_option``, ``extra_index_urls``,
or a requirements file given to ``Environment.from_pip_requirements``).
"""

from __future__ import annotations

import re

from runyard.errors import InvalidArgument

# C0 controls, DEL and C1 controls: none belongs in a package name, an option or a URL,
# and a line break would start a new requirements-file line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

_OPTION_SETTINGS = (
    "give an index with CondaDependencies.create(pip_indexurl=URL) or "
    "set_pip_option('--extra-index-url URL'), and other pip options (-r, -e, ...) in a "
    "requirements file read with Environment.from_pip_requirements(name, path)"
)


def check_no_control_characters(kind: str, value: str) -> str:
    """Return ``value`` if it has no control character (C0, DEL, C1).

    Args:
        kind: What the value is, for the message (``"pip package"``).
        value: The string to check.

    Raises:
        InvalidArgument: ``value`` holds a control character such as a line break.
    """
    found = _CONTROL.search(value)
    if found:
        raise InvalidArgument(
            f"{kind} {value!r} contains the control character {found.group()!r} at position "
            f"{found.start()}; remove it (a line break would add a line to the requirements "
            "file uv installs)."
        )
    return value


def check_package_string(kind: str, value: str) -> str:
    """Return ``value`` if it can only be read as a package, never as a pip option.

    Args:
        kind: ``"pip package"`` or ``"conda package"``, for the message.
        value: The package string, already stripped.

    Raises:
        InvalidArgument: ``value`` holds a control character or starts with ``-``.
    """
    check_no_control_characters(kind, value)
    if value.startswith("-"):
        raise InvalidArgument(
            f"{kind} {value!r} starts with '-', so pip would read it as an option, not a "
            f"package; {_OPTION_SETTINGS}."
        )
    return value
