"""A generated LiveRC-shaped site on loopback for trying the local topology: every track a host of its own.

    .venv/bin/python deploy/local/fake_liverc.py [--tracks 3] [--events 2] > .mre/fake_liverc.env &
    set -a; . .mre/fake_liverc.env; set +a          # MRE_LIVERC_CATALOGUE_URL and MRE_LIVERC_TRACK_URL
    deploy/local/up.sh

It prints the two URL variables (``http://live.localhost:PORT/`` and ``http://{slug}.localhost:PORT``), then
a comment per track with its events (for the requests to insert), and serves until interrupted. With the
catalogue URL set, the pipeline's bootstrap sensor fetches the catalogue within a minute of the first
start. ``<slug>.localhost`` must resolve to 127.0.0.1 (Debian: ``apt-get install libnss-myhostname``).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from mre_pipeline.fake_liverc import FakeLiveRCServer
from mre_pipeline.fake_liverc.generator import generate_site


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=3)
    parser.add_argument("--events", type=int, default=2, help="events per track")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    site = generate_site(
        args.seed,
        tracks=args.tracks,
        events_per_track=args.events,
        extra_catalogue_tracks=0,
        big_first_event=False,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with FakeLiveRCServer(site.fake_site()) as server:
        print(f"MRE_LIVERC_CATALOGUE_URL=http://live.localhost:{server.port}/")
        print(f"MRE_LIVERC_TRACK_URL=http://{{slug}}.localhost:{server.port}")
        for track in site.tracks:
            print(f"# track {track.key}: events {' '.join(str(e.event_id) for e in track.events)}")
        sys.stdout.flush()
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
