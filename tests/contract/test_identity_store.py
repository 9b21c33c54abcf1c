"""The server's identity store on SQLite and PostgreSQL: users, hashed tokens, memberships,
the first administrator, and a schema of its own beside a workspace's."""

from __future__ import annotations

import sqlalchemy as sa

from runyard.errors import AlreadyExists, InvalidArgument, InvalidState, NotFound
from runyard.server.auth import Role
from runyard.server.identity import IdentityStore, RunScope, hash_secret, parse_member_role
from runyard.server.identity.migrations import HEAD
from runyard.server.identity.tables import VERSION_TABLE, metadata
from runyard.tracking.sql import SqlTrackingStore


def _open(url: str) -> IdentityStore:
    return IdentityStore(url)


def test_init_admin_makes_the_first_admin_with_a_token_and_refuses_a_second(store_url):
    store = _open(store_url)
    try:
        assert not store.has_admin()
        issued = store.init_admin("alice")
        assert issued.secret.startswith("ry_") and len(issued.secret) > 40
        assert issued.info.user == "alice" and issued.info.expires_at is None
        assert store.has_admin() and store.get_user("alice").admin
        try:
            store.init_admin("mallory")
            raise AssertionError("a second init-admin was accepted")
        except InvalidState as exc:
            assert "alice" in str(exc)
        assert [u.name for u in store.list_users()] == ["alice"]
    finally:
        store.close()


def test_a_token_is_kept_only_as_its_sha256_and_never_in_repr(store_url):
    store = _open(store_url)
    try:
        store.create_user("bob")
        issued = store.create_token("bob", "laptop", expires_in_s=3600)
        assert issued.secret not in repr(issued)
        engine = sa.create_engine(store_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM identity_tokens")]
        engine.dispose()
        flat = " ".join(str(v) for row in rows for v in row)
        assert issued.secret not in flat
        assert hash_secret(issued.secret) in flat
        credential = store.credential(hash_secret(issued.secret))
        assert credential is not None and credential.token.id == issued.info.id
        assert store.credential(hash_secret(issued.secret + "x")) is None
    finally:
        store.close()


def test_revoke_and_disable_show_in_the_credential(store_url):
    store = _open(store_url)
    try:
        store.create_user("bob")
        issued = store.create_token("bob", "ci")
        store.revoke_token(issued.info.id)
        store.set_disabled("bob", True)
        credential = store.credential(hash_secret(issued.secret))
        assert credential is not None
        assert credential.token.revoked_at is not None and credential.user_disabled
        assert [t.id for t in store.list_tokens("bob")] == [issued.info.id]
        try:
            store.revoke_token("no-such-id")
            raise AssertionError("revoking an unknown token was accepted")
        except NotFound:
            pass
    finally:
        store.close()


def test_memberships_give_one_role_per_workspace(store_url):
    store = _open(store_url)
    try:
        store.create_user("carol")
        issued = store.create_token("carol", "t")
        store.set_member("team", "carol", Role.READER)
        store.set_member("team", "carol", Role.OWNER)  # replaces, does not add
        store.set_member("vision", "carol", Role.CONTRIBUTOR)
        credential = store.credential(hash_secret(issued.secret))
        assert credential is not None
        assert dict(credential.roles) == {"team": Role.OWNER, "vision": Role.CONTRIBUTOR}
        assert [(m.user, m.role) for m in store.list_members("team")] == [("carol", Role.OWNER)]
        store.remove_member("team", "carol")
        assert store.list_members("team") == []
        try:
            store.remove_member("team", "carol")
            raise AssertionError("removing a non-member was accepted")
        except NotFound:
            pass
    finally:
        store.close()


def test_bad_names_roles_and_lifetimes_are_refused(store_url):
    store = _open(store_url)
    try:
        for bad in ("../x", "", "a b"):
            try:
                store.create_user(bad)
                raise AssertionError(f"user name {bad!r} was accepted")
            except InvalidArgument:
                pass
        store.create_user("dan")
        try:
            store.create_user("dan")
            raise AssertionError("a duplicate user was accepted")
        except AlreadyExists:
            pass
        for name, life in (("", None), ("x" * 256, None), ("ok", 0), ("ok", -5)):
            try:
                store.create_token("dan", name, expires_in_s=life)
                raise AssertionError(f"token {name!r}/{life} was accepted")
            except InvalidArgument:
                pass
        try:
            store.create_token("nobody", "t")
            raise AssertionError("a token for an unknown user was made")
        except NotFound:
            pass
        try:
            parse_member_role("admin")
            raise AssertionError("admin was taken for a membership role")
        except InvalidArgument as exc:
            assert "reader, contributor, owner" in str(exc)
        assert store.list_tokens("dan") == []
    finally:
        store.close()


def test_a_run_scoped_token_remembers_its_run(store_url):
    store = _open(store_url)
    try:
        store.create_user("eve")
        issued = store.create_token("eve", "run", run_scope=RunScope("team", "run-1"))
        credential = store.credential(hash_secret(issued.secret))
        assert credential is not None
        assert credential.token.run_scope == RunScope("team", "run-1")
        assert credential.token.to_dict()["run_scope"] == {"workspace": "team", "run_id": "run-1"}
    finally:
        store.close()


def test_the_identity_schema_lives_beside_a_workspace_in_one_database(store_url):
    workspace = SqlTrackingStore(store_url)
    identity = _open(store_url)
    try:
        identity.init_admin("root")
        workspace.create_experiment("exp")
        engine = sa.create_engine(store_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            ours = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
            theirs = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            # The migrated schema is what tables.py describes.
            from alembic.autogenerate import compare_metadata
            from alembic.migration import MigrationContext

            context = MigrationContext.configure(conn)
            diff = [
                d
                for d in compare_metadata(context, metadata)
                # The workspace's tables and the version table are not tables.py's.
                if "identity_" in repr(d) and VERSION_TABLE not in repr(d)
            ]
        engine.dispose()
        assert ours == HEAD
        assert theirs is not None  # the workspace's own revision, untouched by ours
        assert diff == []
    finally:
        identity.close()
        workspace.close()
    reopened = _open(store_url)  # at head: opens without migrating again
    try:
        assert reopened.has_admin()
    finally:
        reopened.close()
