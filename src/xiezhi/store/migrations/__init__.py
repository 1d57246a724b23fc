"""Alembic migrations of the xiezhi store (applied automatically when a store opens)."""
