"""A LiveRC stand-in on loopback: serve generated (or captured, read at runtime) pages over real HTTP.

Tests and benchmarks point ``MRE_LIVERC_CATALOGUE_URL`` at ``server.catalogue_url`` and
``MRE_LIVERC_TRACK_URL`` at ``server.track_url_template`` (path style, ``http://127.0.0.1:PORT/t/{slug}``),
so one server plays every track's subdomain; requests carrying a ``Host: <slug>.liverc.com`` header are
routed by host instead. ``generator.generate_site`` makes a seeded site with its expected records;
``captured.captured_site`` serves the real captured pages from ../shared/liverc (never copied).
"""

from mre_pipeline.fake_liverc.server import CATALOGUE, FakeLiveRCServer, FakeSite, LoggedRequest, Route

__all__ = ["CATALOGUE", "FakeLiveRCServer", "FakeSite", "LoggedRequest", "Route"]
