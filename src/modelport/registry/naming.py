"""Names with version counters (models, environments): safe when several processes register at once.

The counter row of a name is created with an insert that ignores a conflict, then incremented with
``UPDATE ... RETURNING`` inside the registering transaction: PostgreSQL holds the row lock until commit, SQLite
holds the database's write lock (``BEGIN IMMEDIATE``), so two writers always get two distinct versions, and a
rolled-back registration gives its number back with the rest of its transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .tables import utcnow


def get_or_create_name(session: Session, table: Any, name: str) -> int:
    """The id of the counter row for ``name`` in ``table``, creating it at version 0 when new."""
    dialect = session.get_bind().dialect.name
    values = {"name": name, "last_version": 0, "created_at": utcnow()}
    if dialect in ("postgresql", "sqlite"):
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=["name"]))
    elif session.scalars(select(table.id).where(table.name == name)).one_or_none() is None:
        try:
            with session.begin_nested():
                session.add(table(**values))
        except IntegrityError:
            pass  # created meanwhile by another writer
    return int(session.scalars(select(table.id).where(table.name == name)).one())


def next_version(session: Session, table: Any, row_id: int) -> int:
    """Take the next version number of a name; numbers are never reused, even after a delete."""
    statement = (
        update(table)
        .where(table.id == row_id)
        .values(last_version=table.last_version + 1)
        .returning(table.last_version)
    )
    return int(session.execute(statement).scalar_one())
