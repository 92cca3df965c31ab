"""Parse throughput: pages/s and laps/s for the captured race pages and a generated 30 x 60 race.

Run: ``.venv/bin/python benchmarks/parse.py [--repeat N]``. Captured pages come from ``../shared/liverc``
(or MRE_LIVERC_PAGES) and are skipped when absent; generated pages are always measured (raw and prettified).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

from mre_pipeline.connectors.liverc.pages.catalogue import parse_catalogue
from mre_pipeline.connectors.liverc.pages.entry_list import parse_entry_list
from mre_pipeline.connectors.liverc.pages.event import parse_event
from mre_pipeline.connectors.liverc.pages.events import parse_events
from mre_pipeline.connectors.liverc.pages.race import parse_race
from mre_pipeline.fake_liverc.generator import generate_race

ROOT = Path(__file__).resolve().parent.parent


def _laps(html: str) -> int:
    return sum(len(d.laps) for d in parse_race(html, 1).drivers)


def _time(fn: Callable[[], object], repeat: int) -> float:
    """Best-of-3 mean seconds per call (warm), so one noisy run does not decide the figure."""
    fn()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - started) / repeat)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    pages = Path(os.environ.get("MRE_LIVERC_PAGES") or ROOT.parent / "shared" / "liverc")

    cases: list[tuple[str, Callable[[], object], int, int]] = []  # name, call, bytes, laps
    if (pages / "ground_truth.json").exists():
        for race_id in (6304829, 6304822):
            html = (pages / f"canberraoffroad/race-{race_id}.html").read_text(encoding="utf-8")
            cases.append(
                (f"race {race_id} (captured)", lambda h=html: parse_race(h, 1), len(html), _laps(html))
            )
        others = [
            ("catalogue (captured)", "live.liverc.com/index.html", lambda h: parse_catalogue(h)),
            ("events (captured)", "canberraoffroad/events.html", lambda h: parse_events(h, "x")),
            (
                "event 486677 (captured)",
                "canberraoffroad/event-486677.html",
                lambda h: parse_event(h, "x", 1),
            ),
            ("entry list (captured)", "silverstate/entry-list.html", lambda h: parse_entry_list(h, 1)),
        ]
        for name, path, fn in others:
            html = (pages / path).read_text(encoding="utf-8")
            cases.append((name, lambda h=html, f=fn: f(h), len(html), 0))
    else:
        print(f"(captured pages not found at {pages}: generated pages only)")
    for style in ("raw", "pretty"):
        html, expected = generate_race(seed=1, drivers=30, laps=60, style=style)
        laps = sum(len(d.laps) for d in expected.drivers)
        cases.append((f"race 30x60 generated ({style})", lambda h=html: parse_race(h, 1), len(html), laps))

    print(f"{'page':34} {'KB':>7} {'ms/page':>9} {'pages/s':>9} {'laps':>6} {'laps/s':>10}")
    for name, fn, size, laps in cases:
        seconds = _time(fn, args.repeat)
        laps_rate = f"{laps / seconds:10,.0f}" if laps else f"{'-':>10}"
        print(f"{name:34} {size / 1024:7.0f} {seconds * 1000:9.2f} {1 / seconds:9.1f} {laps:6} {laps_rate}")


if __name__ == "__main__":
    main()
