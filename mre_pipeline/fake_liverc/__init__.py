"""A LiveRC stand-in on loopback: serve generated (or captured, read at runtime) pages over real HTTP.

Tests and benchmarks point ``MRE_LIVERC_CATALOGUE_URL`` at ``server.catalogue_url`` and
``MRE_LIVERC_TRACK_URL`` at ``server.track_url_template`` (path style, ``http://127.0.0.1:PORT/t/{slug}``),
so one server plays every track's subdomain.
"""

from mre_pipeline.fake_liverc.server import FakeLiveRCServer, Route

__all__ = ["FakeLiveRCServer", "Route"]
