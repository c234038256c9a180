"""Alembic migrations of the state database, applied by `exact-bill state migrate` and at start-up."""
