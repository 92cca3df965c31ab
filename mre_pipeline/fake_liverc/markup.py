"""Serialise LiveRC-shaped pages in two styles: LiveRC's own, and a "prettified" copy (used by sitegen).

Pages are built as a small element tree (:class:`E`) and written either the way LiveRC serves them
(tab-indented, short cells on one line, data text raw, inline JS single-quoted with ``\\'`` escapes and
``;``), or the way a code formatter rewrites a saved copy (two-space indentation, every text re-wrapped
across indented lines, ``&`` in attributes escaped, JS keys unquoted, double quotes, trailing commas and no
semicolons). Both hold the same data, so a parser must return the same records for both.

The templates are written from the page anatomy in ``docs/liverc-anatomy.md``; no captured page is copied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

RAW = "raw"
PRETTY = "pretty"
STYLES = (RAW, PRETTY)

_VOID = frozenset({"br", "img", "meta", "link", "input", "hr"})
_INLINE = frozenset({"a", "span", "small", "strong", "i", "sup", "b", "u", "br", "img"})
_ONE_LINE = frozenset({"td", "title", "li"})


class Verbatim(str):
    """A chunk written as is (scripts, comments): never re-wrapped or indented further."""


@dataclass
class E:
    """An element: tag, attributes (in order) and children (text, elements or Verbatim chunks)."""

    tag: str
    attrs: Sequence[tuple[str, str]] = ()
    children: list[E | str] = field(default_factory=list)

    def add(self, *children: E | str | None) -> E:
        self.children.extend(c for c in children if c is not None)
        return self


def el(tag: str, attrs: str | dict[str, str] | None = None, *children: E | str | None) -> E:
    """``el("td", {"class": "x"}, "text")``; a bare string as ``attrs`` is shorthand for the class."""
    if isinstance(attrs, str):
        pairs: list[tuple[str, str]] = [("class", attrs)]
    else:
        pairs = list((attrs or {}).items())
    return E(tag, pairs, [c for c in children if c is not None])


def _attrs(attrs: Sequence[tuple[str, str]], style: str) -> str:
    out = []
    for name, value in attrs:
        if style == PRETTY:
            value = value.replace("&", "&amp;")
        out.append(f' {name}="{value}"')
    return "".join(out)


def _is_inline(node: E | str) -> bool:
    if isinstance(node, Verbatim):
        return False
    return isinstance(node, str) or node.tag in _INLINE


def _inline_html(node: E | str, style: str) -> str:
    if isinstance(node, str):
        return node
    if node.tag in _VOID:
        return f"<{node.tag}{_attrs(node.attrs, style)} />"
    inner = "".join(_inline_html(c, style) for c in node.children)
    return f"<{node.tag}{_attrs(node.attrs, style)}>{inner}</{node.tag}>"


_TAG = re.compile(r"(<[^>]*>)")


def _wrap(inline: str, indent: str, width: int = 3) -> list[str]:
    """Re-wrap inline HTML at the spaces of its text (never inside a tag): ``width`` words a line."""
    lines: list[str] = []
    current = ""
    words = 0
    for part in _TAG.split(inline):
        if not part:
            continue
        if part.startswith("<"):
            current += part
            continue
        for i, piece in enumerate(part.split(" ")):
            if i > 0:  # there was a space here: a legal place to break the line
                if words >= width and current.strip():
                    lines.append(indent + current.rstrip())
                    current, words = "", 0
                else:
                    current += " "
            current += piece
            if piece:
                words += 1
    if current.strip():
        lines.append(indent + current.strip())
    return lines


def render(node: E | str, style: str = RAW, depth: int = 0) -> str:
    """The element tree as HTML text in ``style``."""
    return "\n".join(_lines(node, style, depth))


def _lines(node: E | str, style: str, depth: int) -> list[str]:
    unit = "\t" if style == RAW else "  "
    indent = unit * depth
    if isinstance(node, Verbatim):
        return [str(node) if style == RAW else node.replace("\t", "  ")]
    if isinstance(node, str):
        if style == RAW:
            return [indent + node] if node.strip() else []
        return _wrap(node, indent)
    open_tag = f"<{node.tag}{_attrs(node.attrs, style)}>"
    if node.tag in _VOID:
        return [indent + f"<{node.tag}{_attrs(node.attrs, style)} />"]
    if node.tag in ("script", "pre", "textarea"):  # content verbatim
        body = "".join(str(c) for c in node.children)
        if style == PRETTY:  # the formatter's JS has no semicolons
            body = re.sub(r";[ \t]*$", "", body, flags=re.M).replace("\t", "  ")
        return [indent + open_tag + body + f"</{node.tag}>"]
    if style == RAW and node.tag in _ONE_LINE:  # LiveRC writes each cell on one line
        return [indent + open_tag + "".join(_inline_html(c, style) for c in node.children) + f"</{node.tag}>"]
    if all(_is_inline(c) for c in node.children):
        inner = "".join(_inline_html(c, style) for c in node.children)
        if style == RAW or not inner.strip():
            return [indent + open_tag + inner + f"</{node.tag}>"]
        return [indent + open_tag, *_wrap(inner, indent + unit), indent + f"</{node.tag}>"]
    lines = [indent + open_tag]
    run: list[E | str] = []  # consecutive inline children stay together on one (re-wrapped) line

    def flush() -> None:
        if not run:
            return
        inner = "".join(_inline_html(c, style) for c in run)
        if inner.strip():
            if style == RAW:
                lines.append(indent + unit + inner.strip())
            else:
                lines.extend(_wrap(inner, indent + unit))
        run.clear()

    for child in node.children:
        if _is_inline(child):
            run.append(child)
            continue
        flush()
        lines.extend(_lines(child, style, depth + 1))
    flush()
    lines.append(indent + f"</{node.tag}>")
    return lines


# -- inline JavaScript ------------------------------------------------------------------------------------


def js_string(value: str, style: str) -> str:
    """A JS string literal: LiveRC single-quotes with ``\\'``; the formatter uses double quotes."""
    if style == RAW:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def js_object(pairs: Iterable[tuple[str, str | list[str]]], style: str, depth: int) -> str:
    """An object literal whose values are strings or lists of pre-rendered JS values."""
    if style == RAW:
        pad = "\t" * (depth + 1)
        items = []
        for key, value in pairs:
            if isinstance(value, list):
                inner = "".join(f"\n{pad}\t{v}," for v in value).rstrip(",")
                items.append(f"{pad}'{key}' : [{inner}\n{pad}]")
            else:
                items.append(f"{pad}'{key}' : {js_string(value, RAW)}")
        return "{\n" + ",\n".join(items) + "\n" + "\t" * depth + "}"
    pad = "  " * (depth + 1)
    items = []
    for key, value in pairs:
        if isinstance(value, list):
            if not value:
                items.append(f"{pad}{key}: [],")
            else:
                inner = "".join(f"\n{pad}  {v}," for v in value)
                items.append(f"{pad}{key}: [{inner}\n{pad}],")
        else:
            items.append(f"{pad}{key}: {js_string(value, PRETTY)},")
    return "{\n" + "\n".join(items) + "\n" + "  " * depth + "}"


def js_statement(code: str, style: str) -> str:
    return code + (";" if style == RAW else "")
