"""Dagster definitions: thin wrappers (assets, sensors, schedules, checks, resources) over ingestion/."""
