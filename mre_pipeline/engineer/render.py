"""Turn Vega-Lite specs into an image (Dagster) or into script an HTML page inlines (report), offline.

vl-convert runs Vega in an embedded JavaScript engine: the first conversion in a process starts that
engine (about 0.5 s here), later ones take tens of milliseconds. The Dagster image is SVG: for the event
overview it is a quarter of the PNG's size (76 KB against 290 KB) and cheaper to produce, and the UI shows
it the same way (an ``<img>`` with a ``data:`` URI).
"""

from __future__ import annotations

import base64
import json
import os
from functools import lru_cache
from typing import Any

from mre_pipeline import settings

VEGA_LITE_VERSION = "6.4"


def to_svg(spec: dict[str, Any]) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE_VERSION)


def image_markdown(svg: str, alt: str) -> str:
    """Markdown with the SVG inline as a data URI (the Dagster UI's markdown renderer allows ``data:``)."""
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f"![{alt}](data:image/svg+xml;base64,{encoded})"


@lru_cache(maxsize=1)
def javascript_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script that sets ``window.vegaEmbed``: no CDN needed.

    vl-convert bundles the modules on demand (several seconds), so the result is kept in the state folder,
    one file per vl-convert and Vega-Lite version.
    """
    import vl_convert

    cache = settings.state_dir() / "cache" / f"vega-bundle-{vl_convert.__version__}-vl{VEGA_LITE_VERSION}.js"
    if cache.is_file():
        return cache.read_text(encoding="utf-8")
    bundle = vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(bundle, encoding="utf-8")
    partial.replace(cache)  # atomic: a concurrent reader sees the whole file or none
    return bundle


def script_json(value: Any) -> str:
    """JSON safe to place inside a ``<script>`` element (no ``</script>`` or HTML comment can close it)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
