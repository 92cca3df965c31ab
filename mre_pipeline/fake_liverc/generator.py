"""The generated LiveRC-shaped site: public entry points (the implementation lives in ``sitegen``).

``generate_site(seed, tracks=K, events_per_track=E)`` returns a :class:`GeneratedSite` holding the pages
(raw or ``style="pretty"``) and the records the parsers must return; ``generate_race(seed, drivers, laps)``
makes one race page alone. Serve a site with
``FakeLiveRCServer(site.fake_site())`` and point ``LiveRCConfig`` at ``server.catalogue_url`` and
``server.track_url_template``.
"""

from mre_pipeline.fake_liverc.markup import PRETTY, RAW, STYLES
from mre_pipeline.fake_liverc.sitegen import GeneratedSite, expected_race, generate_race, generate_site

__all__ = ["PRETTY", "RAW", "STYLES", "GeneratedSite", "expected_race", "generate_race", "generate_site"]
