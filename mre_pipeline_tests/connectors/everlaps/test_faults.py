"""Every fault the fake can stage ends as a typed ConnectorError with one plain sentence naming the URL once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import requests

from mre_pipeline.connectors.errors import (
    ConfigurationError,
    ConnectorError,
    InvalidIdentifierError,
    NoSuchEventError,
    PageFormatError,
    ResponseTooLargeError,
    SourceHttpError,
)
from mre_pipeline.connectors.everlaps.http import EverlapsHttpFetcher
from mre_pipeline.connectors.everlaps.source import event_ref
from mre_pipeline.fake_everlaps import FakeEverlapsServer, Route
from mre_pipeline.fake_everlaps.generator import GeneratedEvent, generate_event
from mre_pipeline.fake_everlaps.server import delayed_fault, malformed_fault, missing_keys_fault, status_fault
from mre_pipeline_tests.connectors.everlaps.conftest import assert_plain_sentence, source_for


@pytest.fixture(scope="module")
def event() -> GeneratedEvent:
    return generate_event(
        31, classes=1, drivers_per_class=5, qualifying_rounds=1, consolation_series=0, semi_series=0
    )


@pytest.fixture
def server(event: GeneratedEvent) -> Iterator[FakeEverlapsServer]:
    with FakeEverlapsServer(event.site()) as running:
        yield running


def card(event: GeneratedEvent) -> str:
    return f"/api/frontend/event/{event.event_id}"


def tree(event: GeneratedEvent) -> str:
    return f"/api/res/{event.event_id}"


def first_heat(event: GeneratedEvent) -> tuple[str, object]:
    race = event.detail.races[0]
    return f"/api/res/{event.event_id}/{race.locator}", race


def fetch_everything(server: FakeEverlapsServer, event: GeneratedEvent, **settings: object) -> None:
    source = source_for(server, **settings)
    detail = source.fetch_event(event.ref)
    for race in detail.races:
        source.fetch_race(event.ref, race)


def typed_failure(server: FakeEverlapsServer, event: GeneratedEvent, **settings: object) -> ConnectorError:
    with pytest.raises(ConnectorError) as err:
        fetch_everything(server, event, **settings)
    url = getattr(err.value, "url", None)
    assert_plain_sentence(str(err.value), url)
    return err.value


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_client_errors_are_typed_and_not_retried(server, event, status: int) -> None:
    path, _ = first_heat(event)
    server.site.fail(path, status_fault(status))
    error = typed_failure(server, event)
    assert isinstance(error, SourceHttpError) and error.status == status and f"HTTP {status}" in str(error)
    assert len(server.requests_for(path, "POST")) == 1


def test_a_heat_that_vanished_is_a_404(server, event) -> None:
    path, _ = first_heat(event)
    server.site.remove(path)
    error = typed_failure(server, event)
    assert isinstance(error, SourceHttpError) and error.status == 404 and error.url.endswith(f"{path}?l=en")


def test_server_errors_exhaust_retries(server, event) -> None:
    server.site.fail(card(event), *[status_fault(503, retry_after="0")] * 3)
    error = typed_failure(server, event, max_retries=2)
    assert isinstance(error, SourceHttpError) and error.status == 503
    assert (
        str(error)
        == f"Everlaps answered HTTP 503 Service Unavailable; gave up after 3 attempts ({error.url})"
    )


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (
            malformed_fault({"title": "x", "drivers": []}),
            "the body is not valid JSON (it breaks at line 1, column",
        ),
        (Route(200, b""), "the body is not valid JSON (it is empty)"),
        (Route(200, b"   "), "the body is not valid JSON (it is empty)"),
        (Route(200, b'{"heatDuration": NaN}'), "NaN is not a JSON number"),
        (Route(200, b"<html>Service temporarily unavailable</html>"), "the body is not valid JSON"),
        (Route(200, b"[" * 100_000), "the body is not valid JSON"),
    ],
)
def test_bodies_that_are_not_json(server, event, route: Route, reason: str) -> None:
    path, _ = first_heat(event)
    server.site.fail(path, route)
    error = typed_failure(server, event)
    assert isinstance(error, PageFormatError) and reason in str(error)
    assert str(error).startswith(f"the Everlaps response at {error.url} cannot be used")


@pytest.mark.parametrize(
    ("endpoint", "keys", "reason"),
    [
        ("tree", ("races",), "the class list ('races') is missing"),
        ("tree", ("races.0.id",), "class 1: the class id ('id') is missing"),
        (
            "card",
            ("eventId", "title"),
            None,
        ),  # optional: the id is only cross-checked, the tree names the event
        ("heat", ("heatDuration",), "the results node is not a heat (it has no heat duration)"),
        ("heat", ("desc",), "the heat description ('desc') is missing"),
        ("heat", ("desc.countfirstlap",), "the first-lap rule ('countfirstlap') is missing"),
        ("heat", ("drivers.0.driverid",), "driver row 1: the driver id ('driverid') is missing"),
        ("heat", ("drivers.0.laps",), "the lap count ('laps') is missing"),
        ("heat", ("drivers.0.lapsdetail.2.t",), "lap 2: the time ('t') is missing"),
        ("heat", ("drivers.0.lapsdetail.2",), "crossings of the line, but"),
        ("heat", ("drivers.0.time",), "the total time ('time') is missing"),
    ],
)
def test_missing_keys(server, event, endpoint: str, keys: tuple[str, ...], reason: str | None) -> None:
    path = {"tree": tree(event), "card": card(event), "heat": first_heat(event)[0]}[endpoint]
    server.site.fail(path, missing_keys_fault(server.site.payload(path), *keys))
    if reason is None:
        fetch_everything(server, event)
        return
    error = typed_failure(server, event)
    assert isinstance(error, PageFormatError) and reason in str(error), str(error)
    if endpoint == "heat":
        race = event.detail.races[0]
        assert f'heat "{race.session_label}"' in str(error)


def test_driver_and_heat_are_named(server, event) -> None:
    path, race = first_heat(event)
    payload = server.site.payload(path)
    row = payload["drivers"][0]
    broken = {
        **payload,
        "drivers": [
            {
                **row,
                "lapsdetail": [
                    *row["lapsdetail"][:2],
                    {**row["lapsdetail"][2], "t": -40},
                    *row["lapsdetail"][3:],
                ],
            },
            *payload["drivers"][1:],
        ],
    }
    server.site.fail(path, Route.json(broken))
    error = typed_failure(server, event)
    name = " ".join(f"{row['name']} {row['surname']}".split())
    assert (
        f"driver {row['driverid']} ({name}): lap 2: the time ('t') is -40, below the smallest possible 1"
        in str(error)
    )
    assert race.session_label in str(error) and error.url in str(error)


def test_timeouts_are_retried_then_typed(server, event) -> None:
    server.site.fail(tree(event), delayed_fault(1.0), delayed_fault(1.0))
    error = typed_failure(server, event, timeout_s=0.2, max_retries=1)
    assert isinstance(error, SourceHttpError) and "Everlaps did not answer within 0.2 s" in str(error)
    assert len(server.requests_for(tree(event), "POST")) == 2


def test_a_slow_answer_within_the_timeout_is_fine(server, event) -> None:
    server.site.fail(tree(event), delayed_fault(0.2, Route.json(server.site.payload(tree(event)))))
    fetch_everything(server, event, timeout_s=5)


def test_oversized_responses_are_refused(server, event) -> None:
    error = typed_failure(server, event, max_response_bytes=200)
    assert isinstance(error, ResponseTooLargeError) and "larger than the 200-byte limit" in str(error)


def test_payload_of_the_wrong_shape(server, event) -> None:
    server.site.fail(tree(event), Route.json([1, 2, 3]))
    error = typed_failure(server, event)
    assert "the results tree is not a JSON object (got [1, 2, 3])" in str(error)


@pytest.mark.parametrize("empty", [None, {}, []])
def test_an_unknown_event_says_so(server, event, empty) -> None:
    server.site.fail(card(event), Route.json(empty))
    error = typed_failure(server, event)
    assert isinstance(error, NoSuchEventError)
    assert str(error) == f"Everlaps has no event {event.event_id} (its event card at {error.url} is empty)"
    assert error.url and error.url.endswith(card(event))


def test_another_events_card_is_refused(server, event) -> None:
    server.site.fail(card(event), Route.json({**server.site.payload(card(event)), "eventId": 1}))
    error = typed_failure(server, event)
    assert f"it describes event 1, not event {event.event_id}" in str(error)


@pytest.mark.parametrize("event_id", [0, -1, True, "3702", 2**63, 3.0])
def test_invalid_event_ids_are_refused_before_any_request(server, event_id) -> None:
    source = source_for(server)
    for call in (source.fetch_event, source.fetch_entry_list):
        with pytest.raises(InvalidIdentifierError):
            call(event_ref(event_id))
    assert server.requests == []


@pytest.mark.parametrize("locator", ["../../admin", "7303/1/1/1?x=1", "7303//1", "", "7303/1/1/1/../2"])
def test_invalid_heat_paths_are_refused_before_any_request(server, event, locator: str) -> None:
    race = dataclasses.replace(event.detail.races[0], locator=locator)
    with pytest.raises(InvalidIdentifierError):
        source_for(server).fetch_race(event.ref, race)
    assert server.requests == []


def test_a_locator_must_agree_with_the_race_id(server, event) -> None:
    race = dataclasses.replace(event.detail.races[0], race_id=event.detail.races[1].race_id)
    with pytest.raises(InvalidIdentifierError, match="does not belong"):
        source_for(server).fetch_race(event.ref, race)
    assert server.requests == []


def test_the_race_id_alone_finds_the_heat(server, event) -> None:
    race = dataclasses.replace(event.detail.races[0], locator=None)
    assert source_for(server).fetch_race(event.ref, race) == event.results[race.race_id]


def test_no_entry_list_and_no_request(server, event) -> None:
    assert source_for(server).fetch_entry_list(event.ref) is None
    assert server.requests == []


def test_the_fetcher_only_posts_under_the_api(server) -> None:
    source = source_for(server)
    assert isinstance(source.fetcher, EverlapsHttpFetcher)
    with pytest.raises(ConfigurationError):
        source.fetcher.post_json("http://example.org/api/res/1?l=en")
    with pytest.raises(ConfigurationError):
        source.fetcher.post_json(f"{server.base_url}/robots.txt")
    assert server.requests == []


def test_the_fake_answers_like_a_post_only_backend(server, event) -> None:
    url = f"{server.base_url}{tree(event)}?l=en"
    got = requests.get(url, timeout=5)
    assert got.status_code == 404 and got.text == f"Cannot GET {tree(event)}"
    posted = requests.post(url, json={}, timeout=5)
    assert posted.status_code == 200 and posted.json()["id"] == event.event_id
    assert posted.headers["Content-Type"].startswith("application/json")
    assert requests.post(f"{server.base_url}/api/res/1", json={}, timeout=5).status_code == 404
    assert requests.get(f"{server.base_url}/robots.txt", timeout=5).text.startswith("User-agent: *")
