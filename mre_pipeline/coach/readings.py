"""Plain-language readings of the coach's figures, built only from those figures (nothing invented).

Pure functions of plain values, so a test can feed them numbers and check every sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PACE_EPSILON_S = 0.1  # below this a change in mean lap time is "about the same"


def num(value: Any) -> float | None:
    return None if value is None else float(value)


def secs(value: Any, places: int = 3) -> str:
    return f"{float(value):.{places}f} s"


def pct(value: Any) -> str:
    return f"{float(value):.2f} %"


def slower_or_faster(delta: float) -> str:
    return "slower" if delta > 0 else "faster"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def drop_off_reading(
    after_lap: int, before: dict[str, Any], after: dict[str, Any], whole_race: dict[str, Any] | None = None
) -> str:
    """Why did my lap times fall off after lap N: mean change split into clean pace and incidents."""
    mean_before, mean_after = num(before["mean_lap_s"]), num(after["mean_lap_s"])
    delta = mean_after - mean_before
    if abs(delta) < PACE_EPSILON_S:
        lead = (
            f"After lap {after_lap} your mean lap stayed about the same ({secs(mean_after)} against "
            f"{secs(mean_before)} up to lap {after_lap})."
        )
    else:
        lead = (
            f"After lap {after_lap} your mean lap was {secs(abs(delta))} {slower_or_faster(delta)} than "
            f"up to lap {after_lap} ({secs(mean_after)} against {secs(mean_before)})."
        )
    sentences = [lead]
    clean_before, clean_after = num(before["clean_mean_lap_s"]), num(after["clean_mean_lap_s"])
    incidents_before, incidents_after = int(before["incident_laps"]), int(after["incident_laps"])
    if clean_before is not None and clean_after is not None:
        clean_delta = clean_after - clean_before
        incident_part = delta - clean_delta
        sentences.append(
            f"Your clean laps (within 2 s of your own median) were {secs(abs(clean_delta))} "
            f"{slower_or_faster(clean_delta)}, so {plural(incidents_after, 'incident lap')} after lap "
            f"{after_lap} (against {incidents_before} before) account for {incident_part:+.3f} s of the change."
        )
        sentences.append(_pace_verdict(clean_delta, incident_part))
    sentences.append(
        f"You were P{before['position_at_phase_end']} after lap {after_lap} "
        f"({_gap_words(before['gap_to_leader_at_phase_end_s'])}) and P{after['position_at_phase_end']} "
        f"at your last lap ({_gap_words(after['gap_to_leader_at_phase_end_s'])})."
    )
    if whole_race and whole_race.get("drop_off_s") is not None:
        drop = num(whole_race["drop_off_s"])
        sentences.append(
            f"Over the whole race your last-third average ({secs(whole_race['last_third_avg_s'])}) was "
            f"{secs(abs(drop))} {slower_or_faster(drop)} than your first third "
            f"({secs(whole_race['first_third_avg_s'])})."
            if drop
            else "Over the whole race your first and last thirds averaged the same."
        )
    return " ".join(sentences)


def _pace_verdict(clean_delta: float, incident_part: float) -> str:
    if clean_delta > PACE_EPSILON_S and clean_delta >= incident_part:
        return "Most of the fall-off is in your clean pace itself: tyres, fuel load, set-up or fatigue."
    if incident_part > PACE_EPSILON_S:
        return "Your clean pace held up better than the average suggests: the incidents cost you most."
    if clean_delta < -PACE_EPSILON_S:
        return "Your clean pace actually improved later in the race."
    return "Neither your clean pace nor incidents changed by more than a tenth of a second."


def _gap_words(gap: Any) -> str:
    value = num(gap)
    if value is None:
        return "gap to the leader unknown"
    if value == 0:
        return "leading"
    return f"{secs(value)} behind the leader"


def opening_reading(first_seconds: float, rows: Sequence[dict[str, Any]]) -> str:
    """How did I compare to the leader in the first N seconds."""
    if not rows:
        return f"You completed no lap within the first {first_seconds:g} s of the race."
    last = rows[-1]
    deltas = [num(r["lap_delta_s"]) for r in rows]
    led = sum(1 for r in rows if r["position"] == 1)
    matched = sum(1 for d in deltas if d <= 0)
    mean_delta = sum(deltas) / len(deltas)
    sentences = [
        f"In the first {first_seconds:g} s you completed {plural(len(rows), 'lap')}; after lap "
        f"{last['lap_number']} ({secs(last['cumulative_time_s'])}) you were P{last['position']}, "
        f"{_gap_words(last['gap_to_leader_s'])}"
        + ("" if last["position"] == 1 else f" ({last['leader_name']})")
        + ".",
        f"Lap for lap you were {secs(abs(mean_delta))} {slower_or_faster(mean_delta) if mean_delta else 'off'}"
        f" on average than whoever led that lap, and matched or beat the leader's lap {matched} of "
        f"{len(rows)} times.",
    ]
    if led:
        sentences.append(f"You led after {plural(led, 'lap')} of those.")
    worst = max(rows, key=lambda r: num(r["lap_delta_s"]))
    if num(worst["lap_delta_s"]) > 0:
        sentences.append(
            f"Your costliest lap was lap {worst['lap_number']}, {secs(worst['lap_delta_s'])} slower than "
            f"{worst['leader_name']}'s."
        )
    return " ".join(sentences)


def year_reading(track_slug: str, year: int, rows: Sequence[dict[str, Any]]) -> str:
    """Am I more consistent on this track than last year."""
    by_year = {int(r["race_year"]): r for r in rows}
    this, last = by_year.get(year), by_year.get(year - 1)
    if this is None and last is None:
        return f"You have no races at {track_slug} in {year - 1} or {year}."
    if this is None:
        return (
            f"You have no races at {track_slug} in {year}; in {year - 1} your consistency there was "
            f"{pct(last['consistency_pct'])} over {plural(int(last['laps']), 'lap')}."
        )
    now = (
        f"In {year} at {track_slug} your consistency was {pct(this['consistency_pct'])} over "
        f"{plural(int(this['laps']), 'lap')} ({plural(int(this['races']), 'race')})"
    )
    if last is None or this["consistency_change_pct"] is None:
        return now + f"; you have no races there in {year - 1} to compare with."
    change = num(this["consistency_change_pct"])
    if not change:
        return now + f", exactly as in {year - 1}."
    direction, way = ("more", "up") if change > 0 else ("less", "down")
    return (
        now + f", {abs(change):.2f} points {way} from {pct(last['consistency_pct'])} in {year - 1}: "
        f"you are {direction} consistent there than the year before."
    )


def history_reading(track_slug: str, years: Sequence[dict[str, Any]], races: Sequence[dict[str, Any]]) -> str:
    """A driver's consistency history at one track."""
    if not years:
        return f"You have no races at {track_slug}."
    first, last = years[0], years[-1]
    sentences = [
        f"You raced at {track_slug} in {plural(len(years), 'year')} ({first['race_year']}"
        + (f" to {last['race_year']}" if len(years) > 1 else "")
        + f"), {plural(sum(int(y['races_started']) for y in years), 'race')} started."
    ]
    if len(years) > 1 and first["consistency_pct"] is not None and last["consistency_pct"] is not None:
        change = num(last["consistency_pct"]) - num(first["consistency_pct"])
        sentences.append(
            f"Consistency went from {pct(first['consistency_pct'])} in {first['race_year']} to "
            f"{pct(last['consistency_pct'])} in {last['race_year']} ({change:+.2f} points)."
        )
    elif last["consistency_pct"] is not None:
        sentences.append(f"Consistency there: {pct(last['consistency_pct'])} (lap-weighted).")
    rated = [r for r in races if r["consistency_pct"] is not None]
    if len(rated) > 1:
        best = max(rated, key=lambda r: num(r["consistency_pct"]))
        worst = min(rated, key=lambda r: num(r["consistency_pct"]))
        sentences.append(
            f"Best race {pct(best['consistency_pct'])} ({best['race_date']}, {best['class_name']}), "
            f"least consistent {pct(worst['consistency_pct'])} ({worst['race_date']}, {worst['class_name']})."
        )
    return " ".join(sentences)


def compare_reading(
    a: dict[str, Any], b: dict[str, Any], common_laps: int, a_faster: int, b_faster: int, gap_a_ahead: Any
) -> str:
    """Two drivers in one race: result, pace, consistency and the gap between them."""
    name_a, name_b = a["driver_name"], b["driver_name"]
    sentences = [
        f"{name_a} finished P{a['finish_position']} with {plural(int(a['laps']), 'lap')}, {name_b} "
        f"P{b['finish_position']} with {plural(int(b['laps']), 'lap')}."
    ]
    if not common_laps:
        return sentences[0] + " They have no lap in common to compare."
    sentences.append(
        f"Over the {plural(common_laps, 'lap')} both completed, {name_a} was quicker on {a_faster} and "
        f"{name_b} on {b_faster}."
    )
    mean_a, mean_b = num(a["mean_lap_s"]), num(b["mean_lap_s"])
    delta = mean_a - mean_b
    sentences.append(
        f"Mean lap {secs(mean_a)} against {secs(mean_b)} ({name_a} {secs(abs(delta))} per lap "
        f"{slower_or_faster(delta) if delta else 'apart'}); best lap {secs(a['best_lap_s'])} against "
        f"{secs(b['best_lap_s'])}."
    )
    if a["consistency_pct"] is not None and b["consistency_pct"] is not None:
        sentences.append(f"Consistency {pct(a['consistency_pct'])} against {pct(b['consistency_pct'])}.")
    if a["drop_off_s"] is not None and b["drop_off_s"] is not None:
        sentences.append(
            f"Drop-off, last third against first: {num(a['drop_off_s']):+.3f} s against "
            f"{num(b['drop_off_s']):+.3f} s."
        )
    gap = num(gap_a_ahead)
    if gap is not None:
        leader, trailer = (name_a, name_b) if gap >= 0 else (name_b, name_a)
        sentences.append(f"After lap {common_laps} {leader} was {secs(abs(gap))} ahead of {trailer}.")
    return " ".join(sentences)


def race_reading(race: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    started = [r for r in rows if r["laps"]]
    header = (
        f"Race {race['race_number']}: {race['session_label']} (LiveRC race {race['source_race_id']}, "
        f"{race['event_name']}): {len(started)} of {len(rows)} drivers started."
    )
    if not started:
        return header
    winner = next((r for r in rows if r["finish_position"] == 1), started[0])
    fastest = min(started, key=lambda r: num(r["best_lap_s"]))
    sentences = [
        header,
        f"{winner['driver_name']} won with {plural(int(winner['laps']), 'lap')} in {secs(winner['total_time_s'])}.",
        f"Fastest lap {secs(fastest['best_lap_s'])} by {fastest['driver_name']}.",
    ]
    rated = [r for r in started if r["consistency_pct"] is not None]
    if rated:
        steady = max(rated, key=lambda r: num(r["consistency_pct"]))
        sentences.append(f"Most consistent: {steady['driver_name']} ({pct(steady['consistency_pct'])}).")
    return " ".join(sentences)


def events_reading(
    driver_name: str, events: Sequence[dict[str, Any]], races: Sequence[dict[str, Any]]
) -> str:
    if not events:
        return f"{driver_name} has no ingested event with summaries yet."
    finishes = [int(r["finish_position"]) for r in races if r["laps"]]
    sentences = [
        f"{driver_name} has {plural(len(events), 'event')} in the warehouse, from {events[0]['event_start_date']} "
        f"to {events[-1]['event_start_date']}, with {plural(len(races), 'race')} "
        f"({plural(len(finishes), 'start')})."
    ]
    if finishes:
        sentences.append(f"Best finish P{min(finishes)}; wins: {finishes.count(1)}.")
    latest = races[-1]
    sentences.append(
        f"Most recent race: LiveRC race {latest['source_race_id']} ({latest['class_name']}, "
        f"{latest['session_label']}) on {latest['race_date']}, P{latest['finish_position']}."
    )
    return " ".join(sentences)


def matches_reading(query: str, matches: Sequence[dict[str, Any]]) -> str:
    if not matches:
        return f"No driver's name contains {query!r} (case and accents ignored)."
    described = "; ".join(
        f"{m['driver_name']} (id {m['source_driver_id']}, {plural(int(m['races']), 'race')}"
        + (f", last raced {m['last_race_date']}" if m["last_race_date"] else "")
        + ")"
        for m in matches
    )
    verb = "matches" if len(matches) == 1 else "match"
    return f"{plural(len(matches), 'driver')} {verb} {query!r}: {described}."
