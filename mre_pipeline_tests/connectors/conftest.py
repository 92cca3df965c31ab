"""Fixtures for the connector tests: the captured pages (skipped cleanly when absent) and their truth."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mre_pipeline import settings


def captured_root() -> Path:
    """``../shared/liverc`` beside the repo, or ``MRE_LIVERC_PAGES``; the pages are never copied in."""
    return Path(os.environ.get("MRE_LIVERC_PAGES") or settings.PROJECT_ROOT.parent / "shared" / "liverc")


def captured_available() -> bool:
    return (captured_root() / "ground_truth.json").exists()


@pytest.fixture(scope="session")
def captured_dir() -> Path:
    root = captured_root()
    if not (root / "ground_truth.json").exists():
        pytest.skip(f"captured LiveRC pages not found at {root} (set MRE_LIVERC_PAGES)")
    return root


@pytest.fixture(scope="session")
def truth(captured_dir: Path) -> dict[str, Any]:
    return json.loads((captured_dir / "ground_truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def read_page(captured_dir: Path):
    cache: dict[str, str] = {}

    def read(relative: str) -> str:
        if relative not in cache:
            cache[relative] = (captured_dir / relative).read_text(encoding="utf-8")
        return cache[relative]

    return read
