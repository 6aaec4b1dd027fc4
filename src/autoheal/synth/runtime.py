"""The runtime of a synthesized script: how a learned locator reads one value from a page.

This module is copied verbatim (below the ``# --- runtime ---`` marker) into every generated
script, after the value parsers it borrows from :mod:`autoheal.scoring`.  The synthesizer
evaluates its candidate locators with this very code, so a locator behaves on the train pages
exactly as it will in the script.  It may import only the standard library and lxml.

A locator is a small dict (``kind`` + parameters) that yields a *raw* string from a page, and
a transform dict (``t`` + parameters) that turns the raw string into the value or None:

* ``xpath``  -- ``{"kind": "xpath", "x": "//span[@id='total']"}``: first non-empty result
  (element text or attribute value); ``"all": "|"`` joins every result instead.
* ``label``  -- ``{"kind": "label", "label": "subtotal", "mode": "next", "skip": 0}``: the text
  after a text node reading ``Subtotal`` / ``Subtotal:`` (``mode="same"``: the rest of the text
  node that starts with the label).  Label anchors follow the value when its position moves.
* ``jsonld`` -- ``{"kind": "jsonld", "type": "recipe", "path": ["author", "name"]}``: a key path
  inside a schema.org JSON-LD object of that ``@type`` (lists are entered at their first item).
* ``regex``  -- ``{"kind": "regex", "re": ...}``: group 1 of a pattern learned from the text
  around the value in the raw HTML (inline JSON, JavaScript state, odd markup).
"""

from __future__ import annotations

import html
import json
import re

import lxml.etree

from autoheal.scoring import normalize_text, parse_date, parse_money

__all__ = [
    "Doc", "locate", "transform", "apply", "run_locator", "run_chain", "extract_with",
    "parse_minutes",
]

# --- runtime ---

_MONEY_TOKEN = re.compile(
    r"-?(?:[A-Z]{3}\s?|[A-Z]{1,2}\$\s?|[$€£¥₹₩₽]\s?)?-?"
    r"\d+(?:[.,\u00a0\u202f' ]\d{3})*(?:[.,]\d{1,2})?(?!\d)"
    r"(?:\s?(?:[A-Z]{3}\b|[€$£¥₹₩₽]|kr\b|zł|Kč|Ft\b))?"
)
_MONTH_WORD = r"[A-Za-zÀ-ÿ]{3,}\.?"
_DATE_TOKEN = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}"
    r"|\d{1,2}/\d{1,2}/\d{4}"
    r"|" + _MONTH_WORD + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}\.?\s+(?:de\s+)?" + _MONTH_WORD + r"\s+(?:de\s+)?\d{4}"
)
_HOURS = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:h|hrs?|hours?|std|stunden?|timer?|uur|horas?)\b", re.I)
_MINUTES = re.compile(r"(\d+)\s*(?:m|mins?|minutes?|minuten?|minutter|minutos?|perc)\b", re.I)
_DURATION = re.compile(
    r"P(?:(\d+)D)?T?(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?", re.I
)


# The page goes to libxml2 as UTF-8 bytes with the encoding declared: parsing a Python str
# of non-ASCII text is about twice as slow, and a declared encoding ignores a misleading
# <meta charset>.  No id() lookups are used, so the id index is not built.
_PARSER = lxml.etree.HTMLParser(encoding="utf-8", collect_ids=False)


def _parse_html(text):
    return lxml.etree.fromstring(text.encode("utf-8", "surrogatepass"), _PARSER)


def _clean(raw):
    """normalize_text, with a fast path for plain ASCII text without entities."""
    if raw.isascii() and "&" not in raw:
        return " ".join(raw.split())
    return normalize_text(raw)


_norm = _clean


def _json_docs(text):
    text = (text or "").strip()
    if text.startswith("<!--"):
        text = text[4:]
    if text.endswith("-->"):
        text = text[:-3]
    text = text.strip().rstrip(";")
    try:
        return [json.loads(text, strict=False)]
    except ValueError:
        return []


_SKIP_TEXT = frozenset(("script", "style", "noscript"))
_XPATH_CACHE = {}


def _compiled(expr):
    """An XPath compiled once per process (plain strings: no back-references needed)."""
    found = _XPATH_CACHE.get(expr)
    if found is None:
        found = _XPATH_CACHE[expr] = lxml.etree.XPath(expr, smart_strings=False)
    return found


def _visible_texts(root):
    """Non-empty visible text nodes in document order: (normalized, lowercased, element
    holding the text) -- the nodes of ``//text()[not(parent::script or parent::style or
    parent::noscript)]`` in one pass without XPath predicates; the (possibly huge) text of
    script / style elements is never read."""
    out = []
    try:
        _walk_texts(root, None, out)
    except RecursionError:  # absurdly deep markup: the slower XPath gives the same nodes
        out = []
        for node in root.xpath("//text()[not(parent::script or parent::style or parent::noscript)]"):
            text = _clean(node)
            if text:
                owner = node.getparent()
                if owner is not None and node.is_tail:
                    owner = owner.getparent()
                out.append((text, text.lower(), owner))
    return out


def _walk_texts(el, parent, out):
    tag = el.tag
    if tag.__class__ is str and tag not in _SKIP_TEXT:
        raw = el.text
        if raw and not raw.isspace():
            text = _clean(raw)
            if text:
                out.append((text, text.lower(), el))
    for child in el:
        _walk_texts(child, el, out)
    if parent is not None:
        raw = el.tail
        if raw and not raw.isspace():
            text = _clean(raw)
            if text:
                out.append((text, text.lower(), parent))


class Doc:
    """One page, parsed once; text nodes and JSON-LD objects are built on first use."""

    def __init__(self, page):
        self.html = page if isinstance(page, str) else str(page or "")
        self.root = _parse_html(self.html) if self.html.strip() else None
        self._segments = None
        self._labels = None
        self._typed = None
        self._xpaths = {}

    def segments(self):
        """Non-empty visible text nodes in document order: (normalized, lowercased, element
        holding the text)."""
        if self._segments is None:
            self._segments = _visible_texts(self.root) if self.root is not None else []
        return self._segments

    def xpath(self, expr):
        """The results of an XPath on this page (compiled once per process; cached per page
        because locators share paths)."""
        found = self._xpaths.get(expr)
        if found is None:
            found = _compiled(expr)(self.root) if self.root is not None else []
            if not isinstance(found, list):
                found = [found]
            self._xpaths[expr] = found
        return found

    def labels(self):
        """Index of text nodes by their lowercased text without a trailing colon."""
        if self._labels is None:
            index = {}
            for i, (_text, low, _el) in enumerate(self.segments()):
                index.setdefault(low.rstrip(" :"), []).append(i)
            self._labels = index
        return self._labels

    def typed_objects(self):
        """(lowercased @types, object, nested) for every JSON-LD object that has an @type."""
        if self._typed is None:
            found = []
            scripts = []
            if self.root is not None:
                scripts = [el for el in self.root.iter("script")
                           if (el.get("type") or "").strip().lower() == "application/ld+json"]
            for script in scripts:
                for data in _json_docs(script.text):
                    _collect_typed(data, found, False)
            self._typed = found
        return self._typed


def _collect_typed(obj, found, nested):
    if isinstance(obj, list):
        for item in obj:
            _collect_typed(item, found, nested)
    elif isinstance(obj, dict):
        kind = obj.get("@type")
        if kind:
            kinds = kind if isinstance(kind, list) else [kind]
            found.append(([str(k).lower() for k in kinds], obj, nested))
        for key, value in obj.items():
            if isinstance(value, dict | list):
                _collect_typed(value, found, nested or (bool(kind) and key != "@graph"))


def _scalar(value):
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _walk(obj, path, leaf):
    for step in path:
        while isinstance(obj, list):
            obj = obj[0] if obj else None
        if not isinstance(obj, dict):
            return None
        obj = obj.get(step)
    if isinstance(obj, list):
        items = [s for s in (_scalar(v) for v in obj) if s and s.strip()]
        if not items:
            return None
        return items[0] if leaf == "first" else ", ".join(items)
    return _scalar(obj)


def _node_text(item):
    if isinstance(item, str):
        return _norm(item)
    if hasattr(item, "itertext"):
        return _norm(" ".join(item.itertext()))
    return _norm(str(item))


def _unescape(raw):
    raw = html.unescape(raw)
    if "\\" in raw:
        try:
            raw = json.loads('"' + raw.replace('"', '\\"') + '"')
        except ValueError:
            pass
    return normalize_text(raw)


def locate(doc, loc):
    """The raw strings a locator points at (a list, first match first)."""
    kind = loc["kind"]
    if kind == "xpath":
        texts = [_node_text(item) for item in doc.xpath(loc["x"])]
        return [t for t in texts if t]
    if kind == "label":
        return _by_label(doc, loc["label"], loc["mode"], loc.get("skip", 0))
    if kind == "jsonld":
        out = []
        for kinds, obj, _nested in doc.typed_objects():
            if loc["type"] not in kinds:
                continue
            if "plus" in loc:  # a sum of durations: totalTime = prepTime + cookTime
                value = _duration_sum(obj, [loc["path"], *loc["plus"]])
            else:
                value = _walk(obj, loc["path"], loc.get("leaf", "join"))
            if value is not None and value.strip():
                out.append(_unescape(value))
        return out
    if kind == "regex":
        return [r for r in (_unescape(m.group(1)) for m in re.finditer(loc["re"], doc.html)) if r]
    return []


def _duration_sum(obj, paths):
    """``PT<n>M`` for the sum of the durations at ``paths`` that are present, else None."""
    total, found = 0, False
    for path in paths:
        raw = _walk(obj, path, "join")
        minutes = parse_minutes(raw) if raw else None
        if minutes is not None:
            total += int(minutes)
            found = True
    return f"PT{total}M" if found else None


def _by_label(doc, label, mode, skip):
    segs = doc.segments()
    if mode == "same":
        return [text[len(label):].strip() for text, low, _el in segs
                if low.startswith(label) and len(low) > len(label)]
    return [segs[i + 1 + skip][0] for i in doc.labels().get(label, ()) if i + 1 + skip < len(segs)]


def parse_minutes(raw):
    """Minutes in a duration: ISO 8601 (``PT1H30M`` -> 90) or written (``1 hr 45 mins``)."""
    match = _DURATION.fullmatch(raw.strip())
    if match and any(match.groups()):
        days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
        return str(int(round(days * 1440 + hours * 60 + minutes + seconds / 60)))
    hours = _HOURS.search(raw)
    minutes = _MINUTES.search(raw)
    if not hours and not minutes:
        return None
    total = (float(hours.group(1).replace(",", ".")) * 60 if hours else 0.0)
    total += float(minutes.group(1)) if minutes else 0.0
    return str(int(round(total)))


def _money(raw, pick, canon):
    tokens = [m.group(0).strip() for m in _MONEY_TOKEN.finditer(raw)]
    for token in reversed(tokens) if pick == "last" else tokens:
        amount = parse_money(token)
        if amount is not None:
            return f"{amount:.2f}" if canon else token
    return None


def _date(raw):
    for match in _DATE_TOKEN.finditer(raw):
        day = parse_date(match.group(0))
        if day is not None:
            return day.isoformat()
    return None


def transform(raw, tr):
    """The value a transform makes of a raw string, or None when it does not apply."""
    t = tr["t"]
    value = raw
    if t == "money":
        value = _money(raw, tr.get("pick", "first"), tr.get("canon", False))
    elif t == "date":
        value = _date(raw)
    elif t == "minutes":
        value = parse_minutes(raw)
    elif t == "cut":
        low = raw.lower()
        pre, suf = tr.get("pre", ""), tr.get("suf", "")
        if pre:
            i = low.find(pre)
            if i < 0:
                return None
            raw, low = raw[i + len(pre):], low[i + len(pre):]
        if suf:
            j = low.find(suf)
            if j < 0:
                return None
            raw = raw[:j]
        value = raw
    elif t == "token":
        match = re.search(tr["re"], raw)
        value = match.group(0) if match else None
    if value is None:
        return None
    value = value.strip()
    return value or None


def run_locator(doc, loc, tr):
    """The value of one (locator, transform) pair: the first raw string that transforms, or
    with ``loc["all"]`` every one of them joined by that separator."""
    return apply(locate(doc, loc), loc, tr)


def apply(raws, loc, tr):
    """The value a locator's raw strings yield under a transform (see ``run_locator``)."""
    joiner = loc.get("all")
    values = []
    for raw in raws:
        value = transform(raw, tr)
        if value is not None:
            if not joiner:
                return value
            values.append(value)
    return joiner.join(values) if values else None


def run_chain(doc, chain):
    """The first value any (locator, transform) of a field's chain yields, else None."""
    for loc, tr in chain:
        try:
            value = run_locator(doc, loc, tr)
        except Exception:  # noqa: BLE001 - a broken locator must not lose the other fields
            value = None
        if value is not None:
            return value
    return None


def extract_with(page, locators):
    """Every field's value on one page, for a ``{field: [(locator, transform), ...]}`` table."""
    try:
        doc = Doc(page)
    except Exception:  # noqa: BLE001 - an unparseable page yields no values
        return {field: None for field in locators}
    return {field: run_chain(doc, chain) for field, chain in locators.items()}
