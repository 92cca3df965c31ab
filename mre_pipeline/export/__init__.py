"""Analyst exports of the warehouse summaries (Parquet)."""
