"""Benchmark: the per-tick queries of events that are still running, on a big warehouse.

Grows a throwaway warehouse with ``--ingested`` ingested events (a tenth of them still running) and ten times
as many discovered-only events, a summaries watermark as after a build of every ingested event, and then
times, as the sensors run them:

- the request sensor's look-up of a batch of 50 requested events (depth, complete or not, last fetch);
- the summaries backlog when ``--changed`` events changed since their build, and when nothing changed but
  every running event was re-fetched unchanged (only ``last_ingested_at`` moves: no build is due);
- the optional final refresh's search for ended events (rolled back, so every run finds the same ones).

Prints each query's median over ``--repeat`` runs in milliseconds, and the plan of the backlog query.
Runs against the embedded Postgres (or MRE_DATABASE_URL's server) in a throwaway database.
Usage: .venv/bin/python benchmarks/event_refresh.py [--ingested 50000] [--changed 100] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import sqlalchemy as sa

from mre_pipeline.warehouse import requests as queue
from mre_pipeline.warehouse import server
from mre_pipeline.warehouse.scratch import scratch_database
from mre_pipeline.warehouse.summary_state import _BACKLOG_SQL, summary_backlog

# The backlog query before results_changed_at (every ingestion, changed or not, made an event due), for scale.
PREVIOUS_BACKLOG_SQL = """
SELECT e.event_id, e.last_ingested_at, w.event_id IS NULL AS never_built
FROM mre.events e
LEFT JOIN mre_summaries.summary_watermark w ON w.event_id = e.event_id
WHERE e.last_ingested_at IS NOT NULL
  AND (w.event_id IS NULL
       OR w.built_from_ingested_at IS DISTINCT FROM e.last_ingested_at
       OR coalesce(w.models_version, 'v1') <> 'v1')
ORDER BY (w.built_from_ingested_at IS NOT DISTINCT FROM e.last_ingested_at), e.last_ingested_at, e.event_id
LIMIT 200
"""

GROW_SQL = """
INSERT INTO mre.tracks (slug, name) SELECT 'bench-' || t, 'Bench ' || t FROM generate_series(1, 50) t;

INSERT INTO mre.events (source, source_event_id, track_id, name, start_date, end_date, ingest_depth,
                        last_ingested_at, races_pending, complete_after, results_state, results_state_since,
                        results_changed_at)
SELECT 'liverc', e, (SELECT min(track_id) FROM mre.tracks) + e % 50, 'Event ' || e, d, d, 'laps_full', at, 0,
       mre.event_complete_after(d, NULL, 0),
       CASE WHEN e % 10 = 0 THEN 'incomplete' ELSE 'complete' END, at, at
FROM generate_series(1, :ingested) e,
     LATERAL (SELECT CASE WHEN e % 10 = 0 THEN current_date ELSE date '2018-01-01' + e % 3000 END AS d,
                     now() - interval '1 hour' - e * interval '1 second' AS at) v;

INSERT INTO mre.events (source, source_event_id, track_id, name, start_date, end_date)
SELECT 'liverc', 100000000 + e, (SELECT min(track_id) FROM mre.tracks) + e % 50, 'Listed ' || e,
       date '2018-01-01' + e % 3000, date '2018-01-01' + e % 3000
FROM generate_series(1, :ingested * 10) e;

CREATE TABLE mre_summaries.summary_watermark AS
SELECT event_id, last_ingested_at AS built_from_ingested_at, now() AS built_at, 'v1'::text AS models_version
FROM mre.events WHERE ingest_depth = 'laps_full';
CREATE UNIQUE INDEX ON mre_summaries.summary_watermark (event_id);
ANALYZE mre.events;
ANALYZE mre_summaries.summary_watermark;
"""


def median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ingested", type=int, default=50_000)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with scratch_database(server.resolve_urls().warehouse, "mre_bench_refresh") as url:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        started = time.perf_counter()
        with engine.begin() as conn:
            for statement in GROW_SQL.split(";\n"):
                if statement.strip():
                    conn.execute(sa.text(statement), {"ingested": args.ingested})
        print(
            f"warehouse: {args.ingested} ingested events ({args.ingested // 10} still running), "
            f"{args.ingested * 10} discovered-only, grown in {time.perf_counter() - started:.1f} s"
        )
        batch = [("liverc", e) for e in range(10, 10 * 51, 10)]  # 50 requests, all for running events
        with engine.connect() as conn:
            found = queue.ingested_events(conn, batch)
            assert len(found) == 50 and all(not e.complete for e in found.values())
            lookup = median_ms(lambda: queue.ingested_events(conn, batch), args.repeat)
        print(f"request sensor, look-up of 50 requested events: {lookup:.2f} ms")

        def backlog() -> list[int]:
            with engine.connect() as conn:
                return [e.event_id for e in summary_backlog(conn, "v1", limit=200).events]

        with engine.begin() as conn:  # every running event re-fetched, nothing changed
            conn.exec_driver_sql(
                "UPDATE mre.events SET last_ingested_at = now() WHERE results_state = 'incomplete'"
            )
        assert backlog() == []
        unchanged = median_ms(backlog, args.repeat)
        print(
            f"summaries backlog after {args.ingested // 10} unchanged re-fetches: 0 due, {unchanged:.2f} ms"
        )

        def previous() -> int:
            with engine.connect() as conn:
                return len(conn.exec_driver_sql(PREVIOUS_BACKLOG_SQL).all())

        due_before = previous()
        print(
            f"  the previous query (last_ingested_at, no partial index): {due_before} due (a rebuild of each), "
            f"{median_ms(previous, args.repeat):.2f} ms"
        )
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE mre.events SET results_changed_at = now() WHERE event_id IN "
                    "(SELECT event_id FROM mre.events WHERE ingest_depth = 'laps_full' ORDER BY random() LIMIT :n)"
                ),
                {"n": args.changed},
            )
        assert len(backlog()) == min(args.changed, 200)
        changed = median_ms(backlog, args.repeat)
        print(f"summaries backlog with {args.changed} changed events: {changed:.2f} ms")
        with engine.connect() as conn:
            plan = conn.execute(
                sa.text("EXPLAIN " + _BACKLOG_SQL),
                {"models_version": "v1", "limit": 200, "skip_ids": [], "skip_changed_at": []},
            ).scalars()
            print("backlog plan:\n  " + "\n  ".join(plan))

        def final_refresh() -> int:
            with engine.connect() as conn, conn.begin() as transaction:
                count = len(queue.request_final_refreshes(conn, 100))
                transaction.rollback()
                return count

        with engine.begin() as conn:  # the running events ended a week ago
            conn.exec_driver_sql(
                "UPDATE mre.events SET complete_after = now() - interval '7 days' WHERE results_state = 'incomplete'"
            )
        assert final_refresh() == 100
        print(
            f"final refresh, queueing 100 of {args.ingested // 10} ended events: {median_ms(final_refresh, 5):.2f} ms"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
