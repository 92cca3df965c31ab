"""Say in one line why a dbt build failed, from dbt's run_results.json (the sensor logs it on retries)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_FAILED = {"error", "fail"}
FAILED_NODES_PREFIX = "dbt build failed: "  # a summary that names failing nodes starts so


def failure_summary(run_results: Mapping[str, Any] | None, limit: int = 3) -> str:
    """E.g. "dbt build failed: test assert_rollups_match_race_summary failed (2 rows); model x: <error>"."""
    if not run_results:
        return "dbt build failed before it ran any model (see the run's logs)"
    causes = []
    for result in run_results.get("results", []):
        if result.get("status") not in _FAILED:
            continue
        kind, _, name = result.get("unique_id", "node..").split(".", 2)
        name = name.split(".")[-1] if kind == "model" else name.rsplit(".", 1)[0]
        if kind == "test" and result.get("failures"):
            causes.append(f"test {name} failed ({result['failures']} rows)")
        else:
            message = (result.get("message") or "error").strip().splitlines()[0][:200]
            causes.append(f"{kind} {name}: {message}")
    if not causes:
        return "dbt build failed (see the run's logs)"
    more = f" and {len(causes) - limit} more" if len(causes) > limit else ""
    return FAILED_NODES_PREFIX + "; ".join(causes[:limit]) + more
