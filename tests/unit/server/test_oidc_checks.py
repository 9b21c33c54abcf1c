"""The relying party's checks, one by one: what an ID token must be to sign anyone in, the
state cookie, the return address, and the settings."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from runyard.errors import Forbidden, InvalidArgument
from runyard.server.auth.oidc import OidcClient, OidcError, safe_next
from runyard.server.serve import settings_from_json, settings_to_json
from runyard.server.settings import OidcSettings, ServerSettings

ISSUER = "https://id.example.com"


def _settings(**more: Any) -> OidcSettings:
    given: dict[str, Any] = {"client_secret": "s3cret-enough", **more}
    return OidcSettings(issuer=ISSUER, client_id="runyard", **given)


@pytest.fixture()
def key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1"})


@pytest.fixture()
def client(key: RSAKey) -> OidcClient:
    """A client that knows the provider's metadata and keys already (no network)."""
    made = OidcClient(_settings())
    made._metadata = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/jwks",
    }
    made._metadata_at = time.time()
    made._keys = KeySet([RSAKey.import_key(key.as_dict(private=False))])
    made._keys_at = time.time()
    return made


def _token(key: Any, alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "runyard", "sub": "u1", "iat": now, "exp": now + 300}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": "k1"}, body, key)


def test_a_genuine_token_for_this_client_and_sign_in_gives_its_claims(
    client: OidcClient, key: RSAKey
) -> None:
    claims = client.verify_id_token(_token(key, nonce="n1", preferred_username="alice"), "n1")
    assert client.identity(claims).username == "alice"


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"nonce": "other"}, "nonce"),
        ({"nonce": "n1", "aud": "someone-else"}, "another client"),
        ({"nonce": "n1", "aud": ["runyard", "x"]}, "azp"),
        ({"nonce": "n1", "iss": "https://evil.example.com"}, "iss"),
        ({"nonce": "n1", "exp": int(time.time()) - 3600}, "exp"),
        ({"nonce": "n1", "sub": None}, "sub"),
    ],
)
def test_a_token_for_another_client_sign_in_issuer_or_time_is_refused(
    client: OidcClient, key: RSAKey, claims: dict[str, Any], why: str
) -> None:
    with pytest.raises(OidcError) as caught:
        client.verify_id_token(_token(key, **claims), "n1")
    assert why in str(caught.value)


def test_a_token_signed_by_another_key_is_refused_even_after_reading_the_keys_again(
    client: OidcClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    reads: list[bool] = []
    keys = client._keys

    def fetch(*, refresh: bool = False) -> KeySet:
        reads.append(refresh)
        assert keys is not None
        return keys

    monkeypatch.setattr(client, "_key_set", fetch)
    with pytest.raises(OidcError, match="signature"):
        client.verify_id_token(_token(stranger, nonce="n1"), "n1")
    assert reads == [False, True]  # a rotation is looked for once, then refused


def test_unsigned_and_symmetric_tokens_are_refused(client: OidcClient) -> None:
    # alg "none" and HS256 keyed by something public are the classic forgeries.
    hs = OctKey.import_key("s3cret-enough-for-hmac-256")
    with pytest.raises(OidcError):
        client.verify_id_token(_token(hs, alg="HS256", nonce="n1"), "n1")
    header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
    body = jwt.encode({"alg": "HS256"}, {"iss": ISSUER}, hs).split(".")[1]
    with pytest.raises(OidcError):
        client.verify_id_token(f"{header}.{body}.", "n1")


def test_an_unverified_email_does_not_name_a_user() -> None:
    client = OidcClient(_settings(username_claim="email"))
    with pytest.raises(Forbidden, match="not verified"):
        client.identity({"sub": "1", "email": "a@b.c", "email_verified": False})
    with pytest.raises(Forbidden, match="no 'email' claim"):
        client.identity({"sub": "1"})


def test_the_state_cookie_round_trips_and_refuses_tampering_and_age(
    client: OidcClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cookie = client.start("https://runyard.example/auth/oidc/callback", "/w/team")
    assert url.startswith(f"{ISSUER}/authorize?") and "code_challenge_method=S256" in url
    pending = client.unseal(cookie)
    assert pending.next_path == "/w/team" and f"state={pending.state}" in url
    assert pending.verifier not in url  # only its hash goes to the provider
    body, mac = cookie.rsplit(".", 1)
    with pytest.raises(OidcError, match="altered"):
        client.unseal(f"{body}x.{mac}")
    other = OidcClient(_settings(client_secret="another-secret"))
    with pytest.raises(OidcError, match="altered"):
        other.unseal(cookie)
    with pytest.raises(OidcError, match="not started here"):
        client.unseal(None)
    monkeypatch.setattr(time, "time", lambda: pending.expires_at + 1)
    with pytest.raises(OidcError, match="longer than"):
        client.unseal(cookie)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/w/team/runs/r1?x=1", "/w/team/runs/r1?x=1"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/w/a\r\nSet-Cookie: x=1", "/"),
        (None, "/"),
        ("", "/"),
    ],
)
def test_the_return_address_is_a_path_on_this_server(given: str | None, kept: str) -> None:
    assert safe_next(given) == kept


@pytest.mark.parametrize(
    ("issuer", "secret", "problem"),
    [
        ("http://id.example.com", "s3cret-enough", "https://"),
        ("ftp://id.example.com", "s3cret-enough", "https://"),
        (ISSUER, "", "RUNYARD_OIDC_CLIENT_SECRET"),
        (ISSUER, "short", "RUNYARD_OIDC_CLIENT_SECRET"),
    ],
)
def test_bad_oidc_settings_are_refused_with_what_to_do(
    issuer: str, secret: str, problem: str
) -> None:
    with pytest.raises(InvalidArgument, match=problem):
        OidcSettings(issuer=issuer, client_id="x", client_secret=secret)


def test_a_provider_on_this_machine_may_use_http() -> None:
    assert OidcSettings("http://localhost:9400", "x", "s3cret-enough").issuer


def test_the_client_secret_is_never_in_the_settings_repr() -> None:
    assert "s3cret-enough" not in repr(_settings())


def test_worker_settings_carry_oidc_and_leave_no_copy_in_the_environment(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runyard.server import serve

    settings = ServerSettings(workspace=None, home=str(tmp_path), oidc=_settings())
    text = settings_to_json(settings)
    assert settings_from_json(text).oidc == settings.oidc
    assert json.loads(text)["oidc"]["issuer"] == ISSUER
    monkeypatch.setenv(serve.ENV_SERVER_SETTINGS, text)
    made: list[ServerSettings] = []
    monkeypatch.setattr("runyard.server.app.create_app", made.append)
    serve.app_from_env()
    assert made[0].oidc == settings.oidc
    # The runs a worker starts inherit its environment: the settings are gone from it.
    assert serve.ENV_SERVER_SETTINGS not in os.environ


def test_the_cli_takes_the_client_secret_out_of_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runyard.cli.server import take_secret_from_env

    monkeypatch.setenv("RUNYARD_OIDC_CLIENT_SECRET", "s3cret-enough")
    assert take_secret_from_env("RUNYARD_OIDC_CLIENT_SECRET") == "s3cret-enough"
    assert "RUNYARD_OIDC_CLIENT_SECRET" not in os.environ
