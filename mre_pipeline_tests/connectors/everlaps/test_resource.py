"""The Dagster resource, and the rule that it is the folder's only Dagster import."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg

from mre_pipeline.connectors.everlaps.resource import EverlapsResource
from mre_pipeline.connectors.everlaps.source import EverlapsSource
from mre_pipeline.fake_everlaps import FakeEverlapsServer
from mre_pipeline.fake_everlaps.generator import generate_event


def test_resource_points_at_the_server_and_overrides_the_environment(monkeypatch) -> None:
    event = generate_event(
        51, classes=1, drivers_per_class=4, qualifying_rounds=1, consolation_series=0, semi_series=0
    )
    monkeypatch.setenv("MRE_EVERLAPS_URL", "http://127.0.0.1:9")  # overridden below
    monkeypatch.setenv("MRE_EVERLAPS_MAX_RETRIES", "1")
    with FakeEverlapsServer(event.site()) as server:
        resource = EverlapsResource(base_url=server.base_url, min_interval_s=0.0, user_agent="test-agent/1")
        config = resource.config()
        assert (config.base_url, config.max_retries, config.min_interval_s) == (server.base_url, 1, 0.0)
        source = resource.get_source()
        assert isinstance(source, EverlapsSource) and source.source == "everlaps"
        assert source.fetch_event(event.ref) == event.detail
        assert {r.user_agent for r in server.requests} == {"test-agent/1"}


def test_resource_binds_in_dagster_definitions() -> None:
    @dg.asset
    def everlaps_probe(everlaps: EverlapsResource) -> str:
        return everlaps.config().base_url

    result = dg.materialize(
        [everlaps_probe], resources={"everlaps": EverlapsResource(base_url="http://127.0.0.1:1/x/")}
    )
    assert result.success and result.output_for_node("everlaps_probe") == "http://127.0.0.1:1/x"


def test_the_connector_and_the_fake_do_not_import_dagster() -> None:
    code = (
        "import sys, mre_pipeline.connectors.everlaps, mre_pipeline.fake_everlaps.generator, "
        "mre_pipeline.fake_everlaps.captured; print('dagster' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False"
