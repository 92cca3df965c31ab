"""An Everlaps stand-in on loopback: serve generated (or the captured, read at runtime) JSON over real HTTP.

Point ``MRE_EVERLAPS_URL`` (or ``EverlapsConfig.base_url``) at ``server.base_url``. Every endpoint answers
``POST`` with JSON, as everlaps.com does. ``generator.generate_event`` makes a seeded event with its expected
records; ``captured.captured_site`` serves event 3702 from ../shared/everlaps (never copied).
"""

from mre_pipeline.fake_everlaps.server import FakeEverlapsServer, FakeEverlapsSite, LoggedRequest, Route

__all__ = ["FakeEverlapsServer", "FakeEverlapsSite", "LoggedRequest", "Route"]
