"""The event asset's materialization carries the event chart (an SVG in markdown), and a chart that
cannot be drawn only warns: the event is ingested all the same."""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from mre_pipeline.connectors.everlaps.resource import EverlapsResource
from mre_pipeline.connectors.liverc.resource import LiveRCResource
from mre_pipeline.defs.assets import event_results, track_catalogue, track_events
from mre_pipeline.defs.event_chart import CHART_NICENESS, EVENT_CHART_KEY, at_low_priority
from mre_pipeline.defs.resources import WarehouseResource
from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.captured import captured_site

pytestmark = pytest.mark.liverc_pages
ASSETS = [track_catalogue, track_events, event_results]
EVENT_KEY = "liverc-canberraoffroad-486677"
DATA_URI = re.compile(r"!\[event chart\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)")


@pytest.fixture
def resources(liverc_pages: Path, warehouse_url: str) -> Iterator[dict[str, object]]:
    with FakeLiveRCServer(captured_site(liverc_pages)) as server:
        yield {
            "liverc": LiveRCResource(
                catalogue_url=server.catalogue_url,
                track_url_template=server.track_url_template,
                min_interval_s=0.0,
            ),
            "everlaps": EverlapsResource(),
            "warehouse": WarehouseResource(url=warehouse_url),
        }


def _ingest(instance: dg.DagsterInstance, resources: dict[str, object]) -> dg.ExecuteInProcessResult:
    dg.materialize(ASSETS, selection=[track_catalogue], instance=instance, resources=resources)
    instance.add_dynamic_partitions("event", [EVENT_KEY])
    return dg.materialize(
        ASSETS, selection=[event_results], partition_key=EVENT_KEY, instance=instance, resources=resources
    )


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    [materialization] = result.asset_materializations_for_node("event_results")
    return {k: v.value for k, v in materialization.metadata.items()}


def test_materialization_carries_the_event_chart(
    clean_warehouse: sa.Engine, dagster_instance: dg.DagsterInstance, resources: dict[str, object]
) -> None:
    meta = _metadata(_ingest(dagster_instance, resources))
    assert meta["laps"] == 540
    chart = meta[EVENT_CHART_KEY]
    assert chart.startswith(
        "**Cormcc 2025 Rudi Wensing Memorial, Clay Cup** (2025-11-16, canberraoffroad): 2 races."
    )
    svg = base64.b64decode(DATA_URI.search(chart)[1]).decode("utf-8")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    for text in ("Every race", "Race #2: positions", "Race #2: podium lap times", "FELIX KOEGLER", "#1"):
        assert text in svg
    # The races table under the image: running order, LiveRC ids, winners.
    assert (
        "| #1 | 6304822 | Race 13: 1/8 Electric Buggy A3-Main | 10 | 7 | ARI BAKLA | 16 | 614.477 |" in chart
    )
    assert (
        "| #2 | 6304829 | Race 14: 1/8 Nitro Buggy A-Main | 12 | 11 | FELIX KOEGLER | 47 | 1831.382 |"
        in chart
    )
    assert 0 < meta["event_chart_seconds"] < 60


def test_a_chart_failure_only_warns(
    clean_warehouse: sa.Engine,
    dagster_instance: dg.DagsterInstance,
    resources: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("renderer unavailable")

    monkeypatch.setattr("mre_pipeline.engineer.event_chart.draw_event_chart", broken)
    result = _ingest(dagster_instance, resources)
    assert result.success
    meta = _metadata(result)
    assert meta["laps"] == 540 and EVENT_CHART_KEY not in meta
    warnings = [
        entry.user_message
        for entry in dagster_instance.all_logs(result.run_id)
        if entry.level == logging.WARNING and "event chart" in entry.user_message
    ]
    assert warnings == ["event chart not drawn for event 486677: renderer unavailable"]


def test_the_chart_is_drawn_at_low_priority_without_lowering_the_runs() -> None:
    """At the end of a burst, five runs drawing charts slowed the summaries build a racer waits for."""

    def niceness_of_this_thread() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = niceness_of_this_thread()
    assert at_low_priority(niceness_of_this_thread) == max(before, CHART_NICENESS)
    assert niceness_of_this_thread() == before
    with pytest.raises(ZeroDivisionError):
        at_low_priority(lambda: 1 / 0)
