"""What an ingestion step reports: counts, politeness versus work, and a readable summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepReport:
    """Metadata an admin reads in the Dagster UI; plain values only."""

    counts: dict[str, Any] = field(default_factory=dict)
    fetch: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    summary_markdown: str = ""
    detail: str = ""  # one line for the request's status_detail
