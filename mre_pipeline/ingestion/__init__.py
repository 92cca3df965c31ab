"""Ingestion: validate records, apply the depth state machine, call connector then warehouse.

Pure Python over a :class:`~mre_pipeline.connectors.base.RaceDataSource` and a SQLAlchemy engine: no
Dagster here, so every rule is unit-testable without an orchestrator.
"""
