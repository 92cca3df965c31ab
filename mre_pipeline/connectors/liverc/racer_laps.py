"""Extract the inline ``racerLaps[<driverId>] = {...}`` blocks of a race page.

LiveRC serves single-quoted JS with ``\\'`` escapes and a trailing ``;``; copies saved through a formatter
have unquoted keys, double quotes and trailing commas. Each block is found by brace matching (never a
non-greedy regex) and converted to JSON by one tokenising pass; json5 is the slow fallback.
"""

from __future__ import annotations

import json
import re
from typing import Any

import json5

_START = re.compile(r"racerLaps\s*\[\s*['\"]?(\d+)['\"]?\s*\]\s*=\s*\{")
_TOKEN = re.compile(
    r"""'((?:[^'\\]|\\.)*)'|("(?:[^"\\]|\\.)*")|([A-Za-z_$][\w$]*)|(,(?=\s*[}\]]))""",
    re.S,
)


class LapDataError(ValueError):
    """A racerLaps block could not be delimited or decoded."""


def _block_end(text: str, open_brace: int) -> int:
    """Index just past the brace matching ``text[open_brace]``, skipping quoted strings."""
    depth = 0
    i = open_brace
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            i += 1
            while i < n and text[i] != ch:
                i += 2 if text[i] == "\\" else 1
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise LapDataError("unterminated racerLaps block")


def _token_to_json(match: re.Match[str]) -> str:
    single, double, word, _comma = match.groups()
    if single is not None:
        return '"' + single.replace("\\'", "'").replace('"', '\\"') + '"'
    if double is not None:
        return double
    if word is not None:
        return word if word in ("true", "false", "null") else f'"{word}"'
    return ""  # trailing comma


def decode_block(blob: str) -> dict[str, Any]:
    try:
        value = json.loads(_TOKEN.sub(_token_to_json, blob))
    except ValueError:
        try:
            value = json5.loads(blob)
        except ValueError as exc:
            raise LapDataError(f"racerLaps block is not a JS object literal: {exc}") from exc
    if not isinstance(value, dict):
        raise LapDataError("racerLaps block is not an object")
    return value


def extract_racer_laps(html: str) -> dict[int, dict[str, Any]]:
    """Driver id -> decoded block, in page order (finishing order on LiveRC)."""
    blocks: dict[int, dict[str, Any]] = {}
    for match in _START.finditer(html):
        start = match.end() - 1
        end = _block_end(html, start)
        blocks[int(match.group(1))] = decode_block(html[start:end])
    return blocks
