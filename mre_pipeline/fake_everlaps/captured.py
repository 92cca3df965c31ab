"""Serve the real captured event 3702 (read at runtime from ../shared/everlaps; never copied into the repo).

The capture gathers every response the event's public pages load into one file: ``frontend_event`` (the
card), ``res_event`` (the results tree), ``res_by_path`` (nodes keyed by path with ``_`` for ``/``) and
``res_driver_detail`` (``{classId}_{driverId}``). Its ``meta`` and ``errors`` keys are the capturer's own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mre_pipeline import settings
from mre_pipeline.fake_everlaps.server import FakeEverlapsSite

EVENT_ID = 3702
CAPTURE_FILE = "event-3702.json"


def capture_root() -> Path:
    """``../shared/everlaps`` beside the checkout, or ``MRE_EVERLAPS_CAPTURE`` (a folder)."""
    configured = os.environ.get("MRE_EVERLAPS_CAPTURE")
    return Path(configured) if configured else settings.PROJECT_ROOT.parent / "shared" / "everlaps"


def capture_available(root: Path | None = None) -> bool:
    return ((root or capture_root()) / CAPTURE_FILE).is_file()


def load_capture(root: Path | None = None) -> dict[str, Any]:
    return json.loads(((root or capture_root()) / CAPTURE_FILE).read_text(encoding="utf-8"))


def captured_payloads(capture: dict[str, Any]) -> dict[str, Any]:
    """Endpoint path -> payload, for every response in the capture."""
    event = capture["frontend_event"]["eventId"]
    payloads: dict[str, Any] = {
        f"/api/frontend/event/{event}": capture["frontend_event"],
        f"/api/res/{event}": capture["res_event"],
    }
    for key, node in capture["res_by_path"].items():
        payloads[f"/api/res/{event}/{key.replace('_', '/')}"] = node
    for key, detail in capture.get("res_driver_detail", {}).items():
        class_id, driver_id = key.split("_")
        payloads[f"/api/res/{event}/{class_id}/d={driver_id}"] = detail
    return payloads


def captured_site(root: Path | None = None) -> FakeEverlapsSite:
    site = FakeEverlapsSite()
    for path, payload in captured_payloads(load_capture(root)).items():
        site.put(path, payload)
    return site
