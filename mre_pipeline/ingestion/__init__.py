"""Ingestion: validate records, apply the depth state machine, call connector then warehouse.

Pure Python over the connector capabilities of ``connectors/base.py`` and a SQLAlchemy engine, for any
source: no Dagster here, so every rule is unit-testable without an orchestrator.
"""
