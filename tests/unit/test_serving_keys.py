"""Service keys: generated, checked by digest, changed without a restart."""

from __future__ import annotations

import json

import pytest

from runyard.errors import InvalidArgument
from runyard.serving.keys import (
    HeldKeys,
    KeyCheck,
    check_key,
    digest,
    generate_key,
    key_digests,
    write_keys_file,
)


def test_generated_keys_are_long_random_and_distinct():
    keys = {generate_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(len(k) >= 43 for k in keys)


@pytest.mark.parametrize("bad", ["short", "has a space in it ok", "x" * 257, 12345678901234567])
def test_a_chosen_key_must_be_16_to_256_printable_characters(bad):
    with pytest.raises(InvalidArgument, match="16 to 256"):
        check_key("primary", bad)


def test_the_keys_file_holds_digests_never_keys(tmp_path):
    path = str(tmp_path / "keys.json")
    write_keys_file(path, True, ("primary-key-123456", "secondary-key-1234"))
    with open(path) as fh:
        text = fh.read()
    assert "primary-key" not in text and "secondary-key" not in text
    assert json.loads(text)["digests"][0] == digest("primary-key-123456").hex()


def test_either_key_is_accepted_and_anything_else_refused(tmp_path):
    path = str(tmp_path / "keys.json")
    write_keys_file(path, True, ("primary-key-123456", "secondary-key-1234"))
    check = KeyCheck(path)
    assert check.allows("Bearer primary-key-123456")
    assert check.allows("bearer secondary-key-1234")
    assert not check.allows(None)
    assert not check.allows("")
    assert not check.allows("primary-key-123456")
    assert not check.allows("Basic primary-key-123456")
    assert not check.allows("Bearer primary-key-12345")
    assert not check.allows("Bearer " + "x" * 1000)


def test_a_rewritten_keys_file_takes_effect_on_the_next_check(tmp_path):
    path = str(tmp_path / "keys.json")
    write_keys_file(path, True, ("old-primary-key-1234", "secondary-key-1234"))
    check = KeyCheck(path)
    assert check.allows("Bearer old-primary-key-1234")
    write_keys_file(path, True, ("new-primary-key-1234", "secondary-key-1234"))
    assert not check.allows("Bearer old-primary-key-1234")
    assert check.allows("Bearer new-primary-key-1234")
    write_keys_file(path, False, ())
    assert check.allows(None) and not check.auth_enabled


def test_a_missing_keys_file_refuses_every_request(tmp_path):
    check = KeyCheck(str(tmp_path / "none.json"))
    assert not check.allows("Bearer anything-at-all-here")


def test_held_keys_refuse_everything_until_given_digests_and_take_new_ones_at_once():
    held = HeldKeys()
    assert held.auth_enabled and not held.allows("Bearer primary-key-123456")
    held.update(key_digests(True, ("primary-key-123456", "secondary-key-1234")))
    assert "primary-key" not in json.dumps(key_digests(True, ("primary-key-123456",)))
    assert held.allows("Bearer primary-key-123456") and held.allows("Bearer secondary-key-1234")
    held.update(key_digests(True, ("primary-key-ABCDEF", "secondary-key-1234")))
    assert not held.allows("Bearer primary-key-123456")
    assert held.allows("Bearer primary-key-ABCDEF")
    held.update(key_digests(False, ("", "")))
    assert held.allows(None) and not held.auth_enabled


@pytest.mark.parametrize("bad", [{"digests": "not-a-list"}, {"digests": ["zz"]}, {"digests": 3}])
def test_malformed_held_digests_fail_closed(bad):
    held = HeldKeys()
    held.update(key_digests(False, ()))
    held.update(bad)
    assert held.auth_enabled and not held.allows("Bearer primary-key-123456")
