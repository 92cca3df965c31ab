"""Fixtures for the Everlaps connector tests: the captured event (skipped cleanly when absent), loopback
servers, and a helper that checks an error message is one plain sentence naming its URL at most once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from mre_pipeline.connectors.everlaps.config import EverlapsConfig
from mre_pipeline.connectors.everlaps.source import EverlapsSource
from mre_pipeline.fake_everlaps import FakeEverlapsServer
from mre_pipeline.fake_everlaps.captured import capture_available, capture_root, captured_site, load_capture

PYTHON_NAMES = re.compile(
    r"\b(KeyError|TypeError|ValueError|IndexError|AttributeError|Exception|Traceback|NoneType)\b"
)


@pytest.fixture(scope="session")
def capture() -> dict[str, Any]:
    """The captured event 3702 as decoded JSON, read from ../shared/everlaps (never copied into the repo)."""
    if not capture_available():
        pytest.skip(f"captured Everlaps event not found at {capture_root()} (set MRE_EVERLAPS_CAPTURE)")
    return load_capture()


@pytest.fixture
def captured_server(capture: dict[str, Any]) -> Iterator[FakeEverlapsServer]:
    with FakeEverlapsServer(captured_site()) as server:
        yield server


def source_for(server: FakeEverlapsServer, **settings: Any) -> EverlapsSource:
    """A source pointed at ``server``, with no politeness waits unless a test asks for them."""
    values = {"min_interval_s": 0.0, "backoff_base_s": 0.0, **settings}
    return EverlapsSource(EverlapsConfig(base_url=server.base_url, **values))


def assert_plain_sentence(message: str, url: str | None = None) -> None:
    """One sentence a racer can read: no Python class names, the URL at most once, no second sentence."""
    assert not PYTHON_NAMES.search(message), message
    if url is not None:
        assert message.count(url) <= 1, message
    assert "\n" not in message, message
    assert not re.search(r"[a-z]\. [A-Z]", message), f"more than one sentence: {message}"
