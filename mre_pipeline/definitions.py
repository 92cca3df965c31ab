"""The `mre_pipeline` code location (``workspace.yaml`` and ``[tool.dagster]`` point here): the LiveRC
assets, the request sensor and the catalogue schedule. The dbt lap summaries are a location of their own
(``mre_pipeline.summaries_definitions``), so loading this one never imports dagster-dbt."""

from mre_pipeline.defs.build import build_definitions

defs = build_definitions()
