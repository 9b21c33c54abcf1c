"""Addresses of compute that Runyard attaches to, checked before anything connects."""

from __future__ import annotations

import urllib.parse

from runyard.errors import InvalidArgument


def normalise_address(address: str) -> str:
    """The base URL of a cluster's job API from what a user gives.

    Accepts ``http(s)://HOST:PORT`` and ``HOST:PORT`` (taken as HTTP), the address of the
    Ray dashboard (port 8265 by default).

    Raises:
        InvalidArgument: an empty address, a ``ray://`` client address, or another scheme.
    """
    if not isinstance(address, str) or not address.strip():
        raise InvalidArgument(
            f"address must be the Ray dashboard URL, e.g. 'http://head:8265', got {address!r}."
        )
    address = address.strip().rstrip("/")
    if address.startswith("ray://"):
        raise InvalidArgument(
            f"address {address!r} is a Ray Client address. Runyard submits runs through Ray's "
            "job API: give the dashboard's address instead, e.g. 'http://HEAD:8265' (the "
            "head's dashboard port; open it to this machine, e.g. with 'ray dashboard')."
        )
    if "://" not in address:
        address = f"http://{address}"
    scheme = address.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise InvalidArgument(
            f"address {address!r} has scheme {scheme!r}; use http:// or https:// (the Ray "
            "dashboard URL, e.g. 'http://head:8265')."
        )
    parsed = urllib.parse.urlparse(address)
    if not parsed.hostname:
        raise InvalidArgument(f"address {address!r} names no host.")
    return address
