"""Template changes the way real sites make them, applied to saved pages.

Used by the demo's new pages (``autoheal demo --new-pages``: one store whose template changed)
and by ``bench/bench_health.py`` (does the health check notice a changed store?).  Every change
is a deterministic function of the page (and, for the targeted ones, of the label of the field
it changes), so a changed page set regenerates byte for byte:

* ``rename_classes`` -- a new build renames every CSS class (hashed class names rotate);
* ``move_blocks``    -- the block holding the order summary moves to the top of the content;
* ``new_wrapper``    -- the content gets two more wrapper ``div``s (a new layout shell);
* ``relabel_field``  -- the caption in front of one field's value is reworded
  ("Subtotal" -> "Items"), or, where the value lives in a JSON blob, its key is renamed;
* ``money_format``   -- amounts are shown with the cents as a superscript (``$12<sup>99</sup>``),
  as many large shops do.

Text outside ``<script>``/``<style>`` is edited with regular expressions on the raw HTML, so
everything a change does not touch stays byte-identical.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from .scoring import normalize_text, surface_forms

__all__ = ["CHANGES", "change_page"]

_RAW_BLOCK = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_CLASS_ATTR = re.compile(r'(\sclass=")([^"]*)(")')
_TEXT = re.compile(r">([^<]+)<")

_SYNONYMS = (  # (substring of the old caption, new caption)
    ("zwischensumme", "Warenwert"),
    ("subtotal", "Items"),
    ("gesamtsumme", "Endbetrag"),
    ("total", "Amount charged"),
    ("bestellnummer", "Vorgang"),
    ("order number", "Reference"),
    ("order reference", "Reference"),
    ("order #", "Reference"),
    ("order", "Reference"),
    ("datum", "Erstellt"),
    ("date", "Placed"),
    ("placed", "Created"),
)


def _outside_raw(html: str, edit: Callable[[str], str]) -> str:
    """Apply ``edit`` to every part of ``html`` that is not a script or style element."""
    out, pos = [], 0
    for m in _RAW_BLOCK.finditer(html):
        out.append(edit(html[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(edit(html[pos:]))
    return "".join(out)


def rename_classes(html: str, salt: str = "v2") -> str:
    def new(token: str) -> str:
        return "c" + hashlib.sha1(f"{salt}:{token}".encode()).hexdigest()[:7]

    def attr(m: re.Match) -> str:
        return m.group(1) + " ".join(new(t) for t in m.group(2).split()) + m.group(3)

    renamed = _outside_raw(html, lambda part: _CLASS_ATTR.sub(attr, part))
    # stylesheets follow the build: .old{...} -> .new{...}
    return re.sub(r"\.(-?[_a-zA-Z][\w-]*)(?=[\s{:,.>\[])",
                  lambda m: "." + new(m.group(1)) if _in_style(renamed, m.start()) else m.group(0),
                  renamed) if "<style" in renamed else renamed


def _in_style(html: str, pos: int) -> bool:
    start = html.rfind("<style", 0, pos)
    return start >= 0 and html.rfind("</style", 0, pos) < start


def _main_span(html: str) -> tuple[int, int] | None:
    """The inner span of ``<main ...>...</main>``, else of ``<body ...>...</body>``."""
    for tag in ("main", "body"):
        m = re.search(rf"<{tag}\b[^>]*>", html, re.I)
        end = html.rfind(f"</{tag}>")
        if m and end > m.end():
            return m.end(), end
    return None


def new_wrapper(html: str, salt: str = "v2") -> str:
    span = _main_span(html)
    if span is None:
        return f'<div class="shell-{salt}"><div class="shell-inner">{html}</div></div>'
    a, b = span
    return (html[:a] + f'\n<div class="shell-{salt}"><div class="shell-inner" data-layout="{salt}">'
            + html[a:b] + "</div></div>\n" + html[b:])


_BLOCK_OPEN = re.compile(r"<(div|section|aside|table|dl|tfoot|ul|ol|article)\b[^>]*>", re.I)


def _enclosing_block(html: str, pos: int, lo: int) -> tuple[int, int] | None:
    """The smallest balanced block element (see ``_BLOCK_OPEN``) around ``pos`` after ``lo``
    that is at least a table/summary sized chunk (holds 3+ tags)."""
    candidates = []
    for m in _BLOCK_OPEN.finditer(html, lo, pos):
        tag = m.group(1).lower()
        depth, i = 0, m.start()
        pattern = re.compile(rf"<(/?){tag}\b[^>]*>", re.I)
        for t in pattern.finditer(html, m.start()):
            depth += -1 if t.group(1) else 1
            if depth == 0:
                i = t.end()
                break
        else:
            continue
        if m.start() < pos < i and html.count("<", m.start(), i) >= 6:
            candidates.append((i - m.start(), m.start(), i))
    if not candidates:
        return None
    _, a, b = min(candidates)
    return a, b


def _value_pos(html: str, value: str | None, ftype: str, visible: bool = True) -> int | None:
    if not value:
        return None
    forms = sorted(surface_forms(value, ftype), key=len, reverse=True)
    for m in _TEXT.finditer(html) if visible else ():
        if _in_raw(html, m.start()):
            continue
        text = normalize_text(m.group(1))
        if any(f and f in text for f in forms):
            return m.start(1)
    return None


def _in_raw(html: str, pos: int) -> bool:
    for tag in ("script", "style"):
        start = html.rfind(f"<{tag}", 0, pos)
        if start >= 0 and html.rfind(f"</{tag}", 0, pos) < start:
            return True
    return False


def move_blocks(html: str, truth: dict, types: dict) -> str:
    """Move the block around the first labelled money value (the summary) to the top."""
    span = _main_span(html)
    if span is None:
        return html
    order = sorted(truth, key=lambda f: types.get(f) != "money")
    for field in order:
        pos = _value_pos(html, truth.get(field), types.get(field, "text"))
        if pos is None or not span[0] <= pos < span[1]:
            continue
        block = _enclosing_block(html, pos, span[0])
        if block is None:
            continue
        a, b = block
        moved = html[a:b]
        rest = html[:a] + html[b:]
        return rest[: span[0]] + "\n" + moved + "\n" + rest[span[0]:]
    return new_wrapper(html, "moved")  # nothing movable found: at least restructure


def _synonym(caption: str) -> str:
    low = caption.lower()
    for key, new in _SYNONYMS:
        if key in low:
            return new + (":" if caption.rstrip().endswith(":") else "")
    return "Amount"


def relabel_field(html: str, truth: dict, types: dict, field: str) -> str:
    """Reword the caption in front of ``field``'s value (or rename its JSON key)."""
    value, ftype = truth.get(field), types.get(field, "text")
    pos = _value_pos(html, value, ftype)
    if pos is not None:
        node = _TEXT.match(html, pos - 1)
        words = re.match(r"\s*([^\W\d_][^\W\d]*?)(?=\s*[#:]?\s*[\w$£€-]*\d)", node.group(1)) if node else None
        if words and len(words.group(1).strip()) > 2:  # "Order #123": caption and value in one node
            old = node.group(0)
            new = old.replace(words.group(1), _synonym(words.group(1)).rstrip(":"), 1)
            return html[: node.start()] + new + html[node.end():]
        captions = [m for m in _TEXT.finditer(html, 0, pos)
                    if re.search(r"[^\W\d_]{2}", m.group(1)) and not _in_raw(html, m.start())]
        if captions:
            old = captions[-1].group(1)
            new = old.replace(old.strip(), _synonym(normalize_text(old)))
            return _outside_raw(html, lambda part: part.replace(f">{old}<", f">{new}<"))
    # the value only exists in a JSON blob: rename the key in front of it
    forms = [f for f in surface_forms(value, ftype) if f] if value else []
    for form in sorted(forms, key=len, reverse=True):
        at = html.find(form)
        while at >= 0 and not _in_raw(html, at):
            at = html.find(form, at + 1)
        if at < 0:
            continue
        keys = list(re.finditer(r'"([A-Za-z_][\w]*)"\s*:\s*"?$', html[max(0, at - 60): at]))
        if keys:
            key = keys[-1].group(1)
            return html.replace(f'"{key}":', f'"{key}Amount":').replace(f'"{key}" :', f'"{key}Amount" :')
    return html


_MONEY_US = re.compile(r"([$£])(\d{1,3}(?:,\d{3})*|\d+)\.(\d{2})\b")
_MONEY_EU = re.compile(r"(\d{1,3}(?:\.\d{3})*|\d+),(\d{2})((?:&nbsp;|\s)?€)")


def money_format(html: str) -> str:
    """Cents as a superscript, the decimal mark dropped: ``$1,234.50`` -> ``$1,234<sup>50</sup>``."""

    def text(m: re.Match) -> str:
        inner = _MONEY_US.sub(lambda k: f"{k.group(1)}{k.group(2)}<sup>{k.group(3)}</sup>", m.group(1))
        inner = _MONEY_EU.sub(lambda k: f"{k.group(1)}<sup>{k.group(2)}</sup>{k.group(3)}", inner)
        return ">" + inner + "<"

    return _outside_raw(html, lambda part: _TEXT.sub(text, part))


CHANGES = ("rename_classes", "move_blocks", "new_wrapper", "relabel_field", "money_format")


def change_page(html: str, kind: str, *, truth: dict | None = None, types: dict | None = None,
                field: str | None = None) -> str:
    """``html`` with the template change ``kind`` (one of :data:`CHANGES`)."""
    truth, types = truth or {}, types or {}
    if kind == "rename_classes":
        return rename_classes(html)
    if kind == "new_wrapper":
        return new_wrapper(html)
    if kind == "move_blocks":
        return move_blocks(html, truth, types)
    if kind == "relabel_field":
        if field is None:
            labelled = [f for f in truth if truth.get(f)]
            field = next((f for f in labelled if types.get(f) == "money"), labelled[0] if labelled else None)
        return relabel_field(html, truth, types, field) if field else html
    if kind == "money_format":
        return money_format(html)
    raise ValueError(f"unknown template change {kind!r} (one of {', '.join(CHANGES)})")
