"""Alembic environment: migrations run on a connection handed over by cwledger.store."""

from alembic import context

from cwledger.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
