"""Extract the inline ``racerLaps[<driverId>] = {...}`` blocks of a race page.

LiveRC serves single-quoted JS with ``\\'`` escapes and a trailing ``;``; copies saved through a formatter
have unquoted keys, double quotes and trailing commas. Each block is found by brace matching (never a
non-greedy regex: the formatted form has no ``;``). Decoding takes the cheapest correct route: the raw form
without escapes is JSON once its quotes are swapped; anything else goes through one tokenising pass that
rewrites JS literals as JSON (and drops comments); json5 is the last resort, for small blocks only: it
reads about 40 KB a second, so a damaged block of a long race would hold a run for seconds.
"""

from __future__ import annotations

import json
import re
from typing import Any

import json5

_START = re.compile(r"racerLaps\s*\[\s*['\"]?(\d+)['\"]?\s*\]\s*=\s*\{", re.ASCII)
# Braces, and whole quoted strings (so braces inside names do not count).
_SCAN = re.compile(r"""[{}]|'[^'\\]*(?:\\.[^'\\]*)*'|"[^"\\]*(?:\\.[^"\\]*)*\"""", re.S)
_TOKEN = re.compile(
    r"""'([^'\\]*(?:\\.[^'\\]*)*)'|("[^"\\]*(?:\\.[^"\\]*)*")|([A-Za-z_$][\w$]*)|(,(?=\s*[}\]]))"""
    r"""|(//[^\n]*|/\*.*?\*/)""",
    re.S,
)
JSON5_MAX_CHARS = 2048
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
MAX_DEPTH = 32


class LapDataError(ValueError):
    """A racerLaps block could not be delimited or decoded."""


def _block_end(text: str, open_brace: int) -> int:
    """Index just past the brace matching ``text[open_brace]``, skipping quoted strings."""
    depth = 0
    for match in _SCAN.finditer(text, open_brace):
        token = match.group()
        if token == "{":
            depth += 1
            if depth > MAX_DEPTH:
                raise LapDataError("racerLaps block nests too deeply")
        elif token == "}":
            depth -= 1
            if depth == 0:
                return match.end()
    raise LapDataError("unterminated racerLaps block")


def _token_to_json(match: re.Match[str]) -> str:
    single, double, word, _comma, _comment = match.groups()
    if single is not None:
        # JS escapes (\' and \") become the plain character, then the value is re-encoded for JSON.
        return json.dumps(re.sub(r"\\(.)", r"\1", single, flags=re.S), ensure_ascii=False)
    if double is not None:
        return double
    if word is not None:
        return word if word in ("true", "false", "null") else f'"{word}"'
    return ""  # trailing comma or comment


def decode_block(blob: str) -> dict[str, Any]:
    """One ``{...}`` JS object literal (raw or formatted) as a dict."""
    value: Any = None
    if '"' not in blob and "\\" not in blob:  # LiveRC's raw form: quotes and trailing commas differ
        try:
            value = json.loads(_TRAILING_COMMA.sub(r"\1", blob.replace("'", '"')))
        except ValueError:
            value = None
    if value is None:
        try:
            value = json.loads(_TOKEN.sub(_token_to_json, blob))
        except (ValueError, RecursionError):
            if len(blob) > JSON5_MAX_CHARS:
                raise LapDataError("racerLaps block is not a JS object literal") from None
            try:
                value = json5.loads(blob)
            except (ValueError, RecursionError, TypeError, IndexError) as exc:
                raise LapDataError(f"racerLaps block is not a JS object literal: {exc}") from exc
    if not isinstance(value, dict):
        raise LapDataError("racerLaps block is not an object")
    return value


def extract_racer_laps(html: str) -> dict[int, dict[str, Any]]:
    """Driver id -> decoded block, in page order (finishing order on LiveRC)."""
    blocks: dict[int, dict[str, Any]] = {}
    position = 0
    while True:
        match = _START.search(html, position)
        if match is None:
            return blocks
        start = match.end() - 1
        end = _block_end(html, start)
        driver_id = int(match.group(1))
        if driver_id in blocks:
            raise LapDataError(f"two lap-data blocks for driver {driver_id}")
        blocks[driver_id] = decode_block(html[start:end])
        position = end
