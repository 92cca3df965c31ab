"""Assemble the Definitions object from each concern's module."""

from __future__ import annotations

import dagster as dg


def build_definitions() -> dg.Definitions:
    return dg.Definitions()
