"""The `mre_pipeline` code location (``workspace.yaml`` and ``[tool.dagster]`` point here): the LiveRC
assets, the request sensor and the catalogue schedule. The dbt lap summaries are a location of their own
(``mre_pipeline.summaries_definitions``), so loading this one never imports dagster-dbt."""

from mre_pipeline.defs.build import build_definitions
from mre_pipeline.instance import pool_wait

pool_wait.apply()  # every run worker of this location: a step waiting for a pool slot sleeps, not spins
defs = build_definitions()
