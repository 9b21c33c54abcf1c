"""Who a token makes the caller, and when a token is refused: roles per workspace, run
scopes, revocation, expiry, disabled users; the credential cache and the write limiter."""

from __future__ import annotations

import pytest

from runyard.errors import Forbidden, Unauthorized
from runyard.server.auth import Role
from runyard.server.auth.bearer import check_usable, principal_for
from runyard.server.auth.cache import CredentialCache
from runyard.server.auth.ratelimit import WriteRateLimiter
from runyard.server.identity import Credential, RunScope, TokenInfo

SECRET = "ry_this-is-not-shown-anywhere"


def _credential(
    *,
    admin: bool = False,
    roles: dict[str, Role] | None = None,
    scope: RunScope | None = None,
    expires_at: float | None = None,
    revoked_at: float | None = None,
    disabled: bool = False,
) -> Credential:
    token = TokenInfo("id1", "laptop", "bob", 1.0, expires_at, revoked_at, scope)
    return Credential(token, admin, disabled, roles or {})


def test_a_member_has_their_role_in_their_workspace_and_none_elsewhere():
    credential = _credential(roles={"team": Role.CONTRIBUTOR})
    assert principal_for(credential, "team").role == Role.CONTRIBUTOR
    assert principal_for(credential, None).role == Role.READER  # server-level routes
    with pytest.raises(Forbidden, match="bob is not a member of workspace 'other'"):
        principal_for(credential, "other")


def test_an_administrator_is_admin_everywhere():
    credential = _credential(admin=True)
    assert principal_for(credential, "anything").role == Role.ADMIN
    assert principal_for(credential, None).role == Role.ADMIN


def test_a_run_token_is_a_contributor_in_its_own_workspace_only():
    credential = _credential(admin=True, scope=RunScope("team", "run-7"))
    principal = principal_for(credential, "team")
    assert principal.role == Role.CONTRIBUTOR and principal.run_scope == "run-7"
    assert principal.name == "run:run-7"
    assert principal_for(credential, None).role == Role.READER
    with pytest.raises(Forbidden, match="run run-7"):
        principal_for(credential, "other")
    # Never more than its user: a reader's run token stays a reader.
    reader = _credential(roles={"team": Role.READER}, scope=RunScope("team", "run-7"))
    assert principal_for(reader, "team").role == Role.READER
    gone = _credential(scope=RunScope("team", "run-7"))
    with pytest.raises(Forbidden, match="no longer a member"):
        principal_for(gone, "team")


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"revoked_at": 100.0}, "was revoked on 1970-01-01"),
        ({"expires_at": 50.0}, "expired on 1970-01-01"),
        ({"disabled": True}, "User bob is disabled"),
    ],
)
def test_a_revoked_expired_or_disabled_token_is_refused_saying_why(changes, why):
    with pytest.raises(Unauthorized, match=why) as caught:
        check_usable(_credential(**changes), now=1000.0)
    assert SECRET not in str(caught.value)


def test_a_token_that_has_not_expired_yet_is_usable():
    check_usable(_credential(expires_at=2000.0), now=1000.0)


def test_the_cache_keeps_a_credential_for_its_ttl_and_clear_forgets_it():
    now = [0.0]
    cache = CredentialCache(ttl_s=5.0, clock=lambda: now[0])
    credential = _credential()
    cache.put("h", credential)
    now[0] = 4.9
    assert cache.get("h") is credential
    now[0] = 5.1
    assert cache.get("h") is None
    cache.put("h", credential)
    cache.clear()
    assert cache.get("h") is None


def test_the_cache_cannot_grow_past_its_size():
    cache = CredentialCache(max_entries=3)
    for i in range(10):
        cache.put(str(i), _credential())
    assert cache.get("9") is not None and sum(cache.get(str(i)) is not None for i in range(10)) <= 3


def test_the_write_limiter_allows_a_burst_then_the_rate_per_token():
    now = [0.0]
    limiter = WriteRateLimiter(rate_per_s=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)  # empty: one write every 0.5 s
    assert limiter.take("b") == 0.0  # another token has its own bucket
    now[0] = 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0


def test_a_zero_rate_turns_the_limiter_off():
    limiter = WriteRateLimiter(rate_per_s=0, burst=1)
    assert all(limiter.take("a") == 0.0 for _ in range(1000))
