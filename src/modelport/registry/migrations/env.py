"""Alembic environment: modelport always hands Alembic an open connection (see ``registry.db``)."""

from alembic import context

from modelport.registry.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("modelport migrations run through modelport.registry.db.ensure_schema, with a connection")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
