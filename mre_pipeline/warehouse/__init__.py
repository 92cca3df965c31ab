"""Warehouse layer: Postgres server discovery, Alembic migrations, idempotent writes and queries.

All SQL of the project lives in this package.
"""
