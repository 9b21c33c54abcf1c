"""Signing in to the web UI through an OpenID Connect provider.

The authorization code flow with PKCE (RFC 7636), as a confidential client:

1. ``/auth/oidc/login`` sends the browser to the provider with a fresh ``state``, ``nonce``
   and code challenge; the three secrets ride in a short-lived cookie signed with a key
   derived from the client secret, so any of the server's workers (or another server behind
   the same balancer) can finish the sign-in.
2. ``/auth/oidc/callback`` checks ``state`` against the cookie, trades the code (with the
   verifier and the client's credentials) for an ID token, checks its signature against
   the provider's published keys and its ``iss``, ``aud``, ``exp`` and ``nonce``, and
   maps one claim to a Runyard user.
3. The user gets an ordinary API token, handed to the page in the address's fragment (which
   never reaches a server or a log), as ``runyard ui``'s link does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from runyard.errors import Forbidden, InvalidArgument, RunyardError
from runyard.server.settings import OidcSettings

#: How long a started sign-in may take before its cookie lapses.
STATE_LIFETIME_S = 600.0
#: How long the provider's configuration and keys are trusted before being read again.
METADATA_TTL_S = 3600.0
#: ID token signature algorithms accepted (never "none", never a symmetric one keyed by a
#: public value).
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
#: Leeway for clock differences with the provider, in seconds.
CLOCK_SKEW_S = 60


class OidcError(RunyardError):
    """A sign-in through the OpenID Connect provider failed; the message says why."""


@dataclass(frozen=True)
class PendingSignIn:
    """What the login step remembers for the callback (inside the signed cookie)."""

    state: str
    nonce: str
    verifier: str
    next_path: str
    expires_at: float


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in."""

    username: str
    subject: str
    claims: dict[str, Any]


def safe_next(path: str | None) -> str:
    """The page to return to after signing in: a path on this server, never another site.

    ``//evil.example`` and ``/\\evil.example`` are read by browsers as other hosts, so only
    a single leading slash followed by something else is kept.
    """
    if (
        not path
        or not path.startswith("/")
        or path.startswith("//")
        or path.startswith("/\\")
        or any(ord(c) < 0x20 or c == "\x7f" for c in path)
        or len(path) > 2000
    ):
        return "/"
    return path


class OidcClient:
    """One server's relying party: the provider's metadata and keys (cached), the state
    cookie, and the checks of what comes back."""

    def __init__(self, settings: OidcSettings, *, timeout_s: float = 10.0) -> None:
        self.settings = settings
        self._timeout = timeout_s
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        # Derived, not the secret itself: the cookie's MAC key says nothing of the secret.
        self._cookie_key = hashlib.sha256(
            b"runyard-oidc-state\x00" + settings.client_secret.encode()
        ).digest()

    # -- the provider ------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (read at most once an hour)."""
        with self._lock:
            if self._metadata is not None and time.time() - self._metadata_at < METADATA_TTL_S:
                return self._metadata
        url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = self._get_json(url, "its configuration")
        if str(document.get("issuer", "")).rstrip("/") != self.settings.issuer.rstrip("/"):
            raise OidcError(
                f"The provider at {url} calls itself {document.get('issuer')!r}, not "
                f"{self.settings.issuer!r}: give --oidc-issuer exactly as the provider does."
            )
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(key), str):
                raise OidcError(f"The provider's configuration at {url} has no {key}.")
        with self._lock:
            self._metadata, self._metadata_at = document, time.time()
        return document

    def _key_set(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            if (
                not refresh
                and self._keys is not None
                and time.time() - self._keys_at < METADATA_TTL_S
            ):
                return self._keys
        document = self._get_json(self.metadata()["jwks_uri"], "its signing keys")
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise OidcError(f"The provider's signing keys cannot be read: {exc}") from None
        with self._lock:
            self._keys, self._keys_at = keys, time.time()
        return keys

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=self._timeout, follow_redirects=False)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcError(f"Could not read the OIDC provider's {what} at {url}: {exc}") from None
        if not isinstance(document, dict):
            raise OidcError(f"The OIDC provider's {what} at {url} is not a JSON object.")
        return document

    # -- step 1: off to the provider ---------------------------------------------------
    def start(self, redirect_uri: str, next_path: str | None) -> tuple[str, str]:
        """The provider's authorization URL to send the browser to, and the cookie value
        that the callback needs."""
        pending = PendingSignIn(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),
            next_path=safe_next(next_path),
            expires_at=time.time() + STATE_LIFETIME_S,
        )
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(pending.verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile email",
                "state": pending.state,
                "nonce": pending.nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        endpoint = self.metadata()["authorization_endpoint"]
        separator = "&" if "?" in endpoint else "?"
        return f"{endpoint}{separator}{query}", self._seal(pending)

    def _seal(self, pending: PendingSignIn) -> str:
        body = base64.urlsafe_b64encode(
            json.dumps(
                [
                    pending.state,
                    pending.nonce,
                    pending.verifier,
                    pending.next_path,
                    pending.expires_at,
                ]
            ).encode()
        ).decode()
        return f"{body}.{self._mac(body)}"

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._cookie_key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def unseal(self, cookie: str | None) -> PendingSignIn:
        """The sign-in a callback finishes. Raises OidcError: no, forged or stale cookie."""
        if not cookie or "." not in cookie:
            raise OidcError(
                "This sign-in was not started here or its cookie is gone (cookies blocked, "
                "or another browser): start again from the sign-in page."
            )
        body, mac = cookie.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac(body)):
            raise OidcError("The sign-in state was altered: start again from the sign-in page.")
        try:
            state, nonce, verifier, next_path, expires_at = json.loads(
                base64.urlsafe_b64decode(body.encode())
            )
        except (ValueError, TypeError):
            raise OidcError("The sign-in state cannot be read: start again.") from None
        if time.time() > float(expires_at):
            raise OidcError(
                f"The sign-in took longer than {STATE_LIFETIME_S / 60:.0f} minutes: start again."
            )
        return PendingSignIn(state, nonce, verifier, safe_next(next_path), float(expires_at))

    # -- step 2: back from the provider ------------------------------------------------
    def finish(
        self, pending: PendingSignIn, state: str | None, code: str | None, redirect_uri: str
    ) -> Identity:
        """Check the answer, trade the code for an ID token and check it.

        Raises:
            OidcError: anything amiss; the message says what, and never holds a secret.
        """
        if not state or not hmac.compare_digest(state, pending.state):
            raise OidcError(
                "The provider's answer does not belong to this sign-in (state differs): "
                "start again from the sign-in page."
            )
        if not code:
            raise OidcError("The provider sent no authorization code.")
        token_endpoint = self.metadata()["token_endpoint"]
        try:
            response = httpx.post(
                token_endpoint,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": pending.verifier,
                },
                auth=(self.settings.client_id, self.settings.client_secret),
                timeout=self._timeout,
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            raise OidcError(f"Could not reach the provider's token endpoint: {exc}") from None
        if response.status_code != 200:
            detail = _error_text(response)
            raise OidcError(
                f"The provider refused the authorization code ({response.status_code}"
                f"{': ' + detail if detail else ''})."
            )
        try:
            id_token = response.json()["id_token"]
        except (ValueError, KeyError, TypeError):
            raise OidcError("The provider's token answer holds no id_token.") from None
        claims = self.verify_id_token(str(id_token), pending.nonce)
        return self.identity(claims)

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The claims of a genuine, current ID token meant for this client and this sign-in.

        Raises:
            OidcError: a bad signature, issuer, audience, nonce or a lapsed token.
        """
        try:
            decoded = jwt.decode(id_token, self._key_set(), algorithms=ALGORITHMS)
        except JoseError:
            # The provider may have rotated its keys since they were read: read them again.
            try:
                decoded = jwt.decode(id_token, self._key_set(refresh=True), algorithms=ALGORITHMS)
            except JoseError as exc:
                raise OidcError(f"The ID token's signature does not verify ({exc}).") from None
        claims = dict(decoded.claims)
        registry = jwt.JWTClaimsRegistry(
            leeway=CLOCK_SKEW_S,
            iss={"essential": True, "value": self.metadata()["issuer"]},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise OidcError(f"The ID token was refused: {exc}.") from None
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.settings.client_id not in audiences:
            raise OidcError("The ID token was issued to another client (aud).")
        if len(audiences) > 1 and claims.get("azp") != self.settings.client_id:
            raise OidcError("The ID token names several audiences but not this client as azp.")
        return claims

    def identity(self, claims: dict[str, Any]) -> Identity:
        """The Runyard user name the claims name. Raises Forbidden: unusable claims."""
        claim = self.settings.username_claim
        value = claims.get(claim)
        if not isinstance(value, str) or not value:
            raise Forbidden(
                f"The provider's ID token has no {claim!r} claim to name a Runyard user; "
                "start the server with --oidc-username-claim naming one it sends."
            )
        if claim == "email" and claims.get("email_verified") is False:
            raise Forbidden(f"The provider has not verified the email address {value!r}.")
        return Identity(username=value, subject=str(claims["sub"]), claims=claims)


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    text = " ".join(str(body.get(k, "")) for k in ("error", "error_description")).strip()
    # The provider's words are shown to the user: keep them short and printable.
    return "".join(c for c in text if c.isprintable())[:200]


def check_username(name: str) -> str:
    """``name`` as a Runyard user name. Raises Forbidden with what to do instead."""
    from runyard.entities.validation import check_entity_name

    try:
        return check_entity_name("user", name)
    except (InvalidArgument, ValueError) as exc:
        raise Forbidden(
            f"The provider names the user {name[:80]!r}, which is not a Runyard user name "
            f"({exc}). Choose another claim with --oidc-username-claim."
        ) from None
