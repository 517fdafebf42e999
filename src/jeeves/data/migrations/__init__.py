"""Alembic migrations of the data service schema (configured in code by `jeeves.data.migrating`)."""
