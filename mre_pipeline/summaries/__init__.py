"""dbt lap summaries: connection env for dbt, manifest preparation and project paths."""
