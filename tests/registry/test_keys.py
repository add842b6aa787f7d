"""API keys: the secret is shown once and only its hash is kept; a wrong, unknown or revoked key is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from modelport import Workspace
from modelport.errors import ConflictError, InvalidInputError, NotFoundError, UnauthorizedError
from modelport.registry.db import read_session, write_session
from modelport.registry.keys import ApiKeyRegistry, hash_key
from modelport.registry.tables import ApiKeyRow


def test_a_created_key_verifies_and_only_its_hash_and_prefix_are_stored(workspace: Workspace) -> None:
    keys = ApiKeyRegistry(workspace.engine)

    new = keys.create("ci")

    assert new.secret.startswith("mpk_") and len(new.secret) > 40
    assert new.key.prefix == new.secret[:12]
    assert keys.verify(new.secret).name == "ci"
    with read_session(workspace.engine) as session:
        row = session.scalars(select(ApiKeyRow)).one()
    assert row.sha256 == hash_key(new.secret)
    assert new.secret not in (row.prefix, row.sha256, row.name)


def test_wrong_unknown_and_revoked_keys_are_refused(workspace: Workspace) -> None:
    keys = ApiKeyRegistry(workspace.engine)
    new = keys.create("ci")

    for wrong in ("", "Bearer", "mpk_", new.secret[:-1] + ("A" if new.secret[-1] != "A" else "B"), "x" * 50):
        with pytest.raises(UnauthorizedError):
            keys.verify(wrong)
    assert keys.revoke("ci").revoked
    with pytest.raises(UnauthorizedError):
        keys.verify(new.secret)
    assert keys.revoke("ci").revoked  # again: no change, no error


def test_listing_shows_prefix_and_last_use_never_the_secret(workspace: Workspace) -> None:
    keys = ApiKeyRegistry(workspace.engine)
    first, second = keys.create("a"), keys.create("b")
    keys.verify(first.secret)

    listed = {k.name: k for k in keys.list()}

    assert listed["a"].last_used_at is not None and listed["b"].last_used_at is None
    assert listed["b"].prefix == second.secret[:12]
    assert first.secret not in str([k.to_dict() for k in listed.values()])


def test_last_use_is_written_at_most_once_a_minute(workspace: Workspace) -> None:
    keys = ApiKeyRegistry(workspace.engine)
    new = keys.create("ci")
    keys.verify(new.secret)
    used = keys.get("ci").last_used_at
    assert used is not None

    keys.verify(new.secret)
    assert keys.get("ci").last_used_at == used  # this process wrote it less than a minute ago
    other = ApiKeyRegistry(workspace.engine)  # another process: the database's value decides
    other.verify(new.secret)
    assert keys.get("ci").last_used_at == used
    with write_session(workspace.engine) as session:
        session.execute(update(ApiKeyRow).values(last_used_at=used - timedelta(minutes=5)))
    ApiKeyRegistry(workspace.engine).verify(new.secret)
    later = keys.get("ci").last_used_at
    assert later is not None and later > used - timedelta(minutes=5)


def test_names_are_checked_and_unique(workspace: Workspace) -> None:
    keys = ApiKeyRegistry(workspace.engine)
    keys.create("ci")

    with pytest.raises(ConflictError):
        keys.create("ci")
    with pytest.raises(InvalidInputError):
        keys.create("no spaces")
    with pytest.raises(NotFoundError):
        keys.revoke("nope")
