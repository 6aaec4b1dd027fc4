"""Compact views of web pages for model prompts.

A saved page is mostly noise for somebody writing an extraction script: scripts, styles, SVG,
tracking attributes, navigation menus, long runs of identical product cards or comments, and
prose.  :func:`compress_page` turns a page into a small, still HTML-like *view* that keeps
what a script author needs, in four steps:

1. **Parse and clean** (lxml, in recover mode).  ``script``/``style``/``noscript``/``svg``/
   ``iframe``/... and comments are dropped, as is ``<head>`` boilerplate.  Kept: ``<title>``,
   ``<meta>`` tags with content, ``<link rel="canonical">``, JSON-LD scripts (parsed and
   trimmed: long strings shortened, long lists cut to their first items) and inline JSON/JS
   state scripts that contain a ``keep`` value or look like data (cut to windows around the
   values).  Of the attributes only those a selector or a value may live in are kept: ``id``,
   ``class`` (first few classes), ``itemprop``, ``name``, ``property``, ``content``, ``value``,
   ``data-*``, ``datetime``..., ``href``/``src`` only when short, and any attribute that holds
   a ``keep`` value.  Text is normalised like :mod:`autoheal.scoring` does (entities, NFKC,
   whitespace) and long text nodes are trimmed to a head plus windows around ``keep`` values.
   Empty decoration elements disappear.
2. **Collapse repeated blocks.**  Runs of sibling elements of the same shape (tag + classes,
   digits ignored) are cut to their first two items plus
   ``<!-- N similar <tag> elements omitted -->``.  Items holding a ``keep`` value or a
   labelled likely value (``Subtotal ... $12.00``) are kept wherever they are in the run.
3. **Budget.**  If the view is still over budget, only the neighbourhoods of *anchors* are
   kept: the nodes holding a ``keep`` value (always kept, whatever the budget), the title,
   ``h1``, JSON-LD and key ``<meta>`` tags, then likely values (money amounts,
   order-number-like tokens, dates) next to label words (Subtotal, Total, Order, Datum...),
   then bare likely values and label words.  An anchor's neighbourhood is the largest
   ancestor that is still small (so ``<tr><td>Subtotal</td><td>$57.69</td></tr>`` stays
   whole) plus its previous and next sibling; the path from the root to it is kept as bare
   tags, so the nesting a selector needs stays visible.  Gaps are shown as ``<!--…-->``.
   The effective budget is ``min(budget_tokens, max(FLOOR_TOKENS, max_ratio * raw tokens))``:
   large pages are cut to a share of their size, small pages are left readable.
4. **Safety net.**  A ``keep`` form that occurs in the page (as :func:`autoheal.scoring.
   is_present` sees it) but not in the view -- e.g. split across elements -- is appended as a
   short text excerpt, so every labelled value a prompt relies on survives.

Everything is deterministic (document order, no hashing of unordered sets).  Hostile input
never raises: NUL and control characters are removed, nesting deeper than ``MAX_DEPTH``
is flattened to text, and if anything goes wrong the result is a trimmed plain-text view.
The output is *data*: the prompt builder must still wrap it in its page delimiters; the view
contains no comments of the page itself (the only comments are the omission markers).

:func:`fragment_around` serves the improvement prompt: the small element around a failing
value, with its label context.  :func:`estimate_tokens` is the cheap token count used for
budgets and benches.
"""

from __future__ import annotations

import html as _html
import json
import re
import unicodedata
from collections.abc import Iterable

from lxml import etree

__all__ = ["compress_page", "fragment_around", "estimate_tokens", "FLOOR_TOKENS", "MAX_DEPTH"]

FLOOR_TOKENS = 1500  # the budget is never cut below this by max_ratio
MAX_DEPTH = 120  # deeper elements are flattened into their ancestor's text
TEXT_MAX = 160  # longer text nodes are trimmed
ATTR_MAX = 80  # longer attribute values are trimmed (href/src dropped)
RUN_MIN = 4  # a run of this many similar siblings is collapsed
RUN_HEAD = 2  # ... to its first RUN_HEAD items
CONTEXT_TOKENS = 120  # an anchor is widened to the largest ancestor at most this big
KEEP_ANCHORS_PER_FORM = 3

# --------------------------------------------------------------------------- tokens

_TOKEN_RE = re.compile(r"[^\W\d_]{1,10}|\d{1,3}|[^\w\s]{1,2}|_")
_EXACT_CHARS = 64 * 1024
_SAMPLES, _SAMPLE_CHARS = 32, 2048


def estimate_tokens(text: str) -> int:
    """A cheap, deterministic estimate of the number of LLM tokens in ``text``.

    Counts the pieces BPE tokenizers roughly split text into: runs of letters (a new token
    every 10 letters), groups of up to three digits, pairs of punctuation characters; spaces
    are free (tokenizers attach them to the next word).  On English prose this is close to
    ``len(text) / 4``; on markup, minified code and numbers it is higher (about ``len / 3``),
    as real tokenizers are.  Texts over 64 KB are estimated from 32 evenly spaced 2 KB samples
    (a 300 KB page costs ~3 ms instead of ~30 ms).
    """
    if not text:
        return 0
    if not isinstance(text, str):
        text = str(text)
    n = len(text)
    if n <= _EXACT_CHARS:
        return len(_TOKEN_RE.findall(text))
    step = (n - _SAMPLE_CHARS) // (_SAMPLES - 1)
    counted = sum(
        len(_TOKEN_RE.findall(text, i * step, i * step + _SAMPLE_CHARS)) for i in range(_SAMPLES)
    )
    return int(counted * n / (_SAMPLES * _SAMPLE_CHARS))


# --------------------------------------------------------------------------- text helpers

_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _norm(text: str) -> str:
    """Entities already decoded by lxml: NFKC (non-ASCII only) and collapse whitespace."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _WS.sub(" ", text).strip()


class _Needles:
    """The keep forms, normalised, and the regexes that find them.

    *Strong* forms (4+ characters, not a short number) are searched as substrings everywhere
    and protect every node they occur in.  *Weak* forms (``40``, ``0``, ``6542``) occur all
    over a page by chance: they are matched as whole words in text only, and only their first
    occurrence is kept (the safety net covers the rest).
    """

    def __init__(self, keep: Iterable[str]):
        forms: list[str] = []
        for value in keep or ():
            if value is None:
                continue
            form = _norm(_CONTROL.sub("", _html.unescape(str(value)))).lower()
            if form and form not in forms:
                forms.append(form)
        self.forms = forms
        strong = [f for f in forms if not _is_weak(f)]
        weak = [f for f in forms if _is_weak(f)]
        self.strong = strong
        self.sub = _alternation(strong, False)  # strong forms, substring
        self.word = _alternation(strong, True)  # strong forms, whole word
        self.weak = _alternation(weak, True)  # weak forms, whole word
        parts = [p.pattern for p in (self.sub, self.weak) if p is not None]
        self.any = re.compile("|".join(parts), re.I) if parts else None  # for trimming

    def has(self, text: str) -> bool:
        """Whether ``text`` contains a strong form (plain substring search: fast on big text)."""
        if not self.strong or not text:
            return False
        low = text.lower()
        return any(f in low for f in self.strong)


def _is_weak(form: str) -> bool:
    return len(form) <= 3 or (form.isdigit() and len(form) <= 4)


def _alternation(forms: list[str], whole_word: bool) -> re.Pattern | None:
    if not forms:
        return None
    alt = "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f)))
    if whole_word:
        alt = r"(?<![\w])(?:" + alt + r")(?![\w])"
    return re.compile(alt, re.I)


def _trim(text: str, limit: int, rx: re.Pattern | None = None, head: int | None = None) -> str:
    """``text`` cut to about ``limit`` chars: its head plus windows around matches of ``rx``."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3 if head is None else head
    spans = [(0, head)]
    if rx is not None:
        for i, m in enumerate(rx.finditer(text)):
            if i >= 8:
                break
            spans.append((max(0, m.start() - 60), min(len(text), m.end() + 60)))
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1] + 10:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out = " … ".join(text[s:e].strip() for s, e in merged)
    if merged[-1][1] < len(text):
        out += " …"
    return out


def _trim_json(text: str, rx: re.Pattern | None, tight: bool = False) -> str:
    """A JSON document with long strings shortened and long lists cut; keep values survive.

    ``tight`` (used when a page is over budget) also cuts lists to one item and replaces
    nested containers below depth 2 that hold no keep value by ``"…"``.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return _trim(_norm(text), 200 if tight else 400, rx).replace("</", "<\\/")
    str_max, list_head = (80, 1) if tight else (TEXT_MAX, RUN_HEAD)

    def has(v: object) -> bool:
        return rx is not None and rx.search(json.dumps(v, ensure_ascii=False)) is not None

    def walk(v: object, depth: int) -> object:
        if depth > 30:
            return "…"
        if isinstance(v, str):
            return _trim(_norm(v), str_max, rx)
        if isinstance(v, list | dict) and tight and depth > 2 and not has(v):
            return "…"
        if isinstance(v, list):
            if len(v) > list_head + 1:
                kept = [x for i, x in enumerate(v) if i < list_head or has(x)]
                return [walk(x, depth + 1) for x in kept] + [f"… {len(v) - len(kept)} more"]
            return [walk(x, depth + 1) for x in v]
        if isinstance(v, dict):
            return {str(k): walk(x, depth + 1) for k, x in v.items()}
        return v

    try:
        out = json.dumps(walk(data, 0), ensure_ascii=False, separators=(",", ":"))
    except (ValueError, RecursionError, TypeError):
        return _trim(_norm(text), 400, rx).replace("</", "<\\/")
    return out.replace("</", "<\\/")


# --------------------------------------------------------------------------- likely values

_MONEY = re.compile(
    r"(?:[$€£¥₹]|\b(?:USD|EUR|GBP|CHF|CAD|AUD|SEK|NOK|DKK|PLN)\b)\s?-?\d[\d.,]*"
    r"|\d[\d.,]*\s?(?:€|\b(?:EUR|USD|GBP|CHF)\b)"
)
_ID = re.compile(
    r"\b\d{3}-\d{7}-\d{7}\b|#\s?[A-Z0-9][A-Z0-9-]{3,}|\b[A-Z]{0,4}\d{6,}\b"
    r"|\b(?=[A-Z0-9-]*\d)[A-Z0-9]{2,}-[A-Z0-9-]{4,}\b"
)
_MONTHS = r"(?:jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz])[a-zä]*\.?"
_DATE = re.compile(
    r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b"
    r"|\b" + _MONTHS + r"\s+\d{1,2},?\s+\d{4}\b|\b\d{1,2}\.?\s+" + _MONTHS + r"\s+\d{4}\b",
    re.I,
)
_LABEL = re.compile(
    r"\b(?:sub-?total|total|tax|vat|shipping|handling|delivery|order|invoice|date|placed|"
    r"payment|grand|summe|zwischensumme|gesamt\w*|versand\w*|bestell\w*|rechnung\w*|mwst|ust|"
    r"datum|betrag|author|serves|servings|yield|prep|cook|cuisine|category|course)\b",
    re.I,
)


def _likely(text: str) -> int:
    """2 for a likely value (money, id, date) in ``text``, +1 for a label word."""
    score = 2 if (_MONEY.search(text) or _ID.search(text) or _DATE.search(text)) else 0
    return score + (1 if _LABEL.search(text) else 0)


# --------------------------------------------------------------------------- the view tree

_DROP = frozenset(
    "script style noscript svg math iframe frame frameset object embed canvas template base "
    "audio video source track map area dialog hr wbr param applet".split()
)
_HEAD_KEEP = frozenset(("title", "meta", "link", "script"))
_VOID = frozenset("br img input meta link col".split())
_KEEP_EMPTY = frozenset("br td th input img meta".split())
_BLOCK = frozenset(
    "html head body div p section article aside header footer main nav ul ol li dl dt dd table "
    "thead tbody tfoot tr caption form fieldset h1 h2 h3 h4 h5 h6 title meta link script "
    "blockquote pre figure figcaption address details summary select option".split()
)
_ATTRS = (
    "id",
    "class",
    "itemprop",
    "itemtype",
    "itemscope",
    "name",
    "property",
    "content",
    "value",
    "datetime",
    "type",
    "rel",
    "for",
    "alt",
    "aria-label",
    "href",
    "src",
)
_BORING_META = frozenset(
    "viewport theme-color format-detection referrer robots msapplication-tilecolor "
    "msapplication-tileimage apple-mobile-web-app-capable google-site-verification "
    "msvalidate.01 p:domain_verify facebook-domain-verification".split()
)
_DATA_SCRIPT = re.compile(
    r"^\s*(?:(?:window|self|var|let|const)\b[^=;{(]{0,80}=\s*(?:JSON\.parse\()?\s*['\"]?[\[{]|[\[{])"
)
_DIGITS = re.compile(r"\d+")
_STATE_CLASSES = frozenset("odd even alt first last active selected current hidden".split())


class _Node:
    __slots__ = (
        "tag",
        "open",
        "items",
        "parent",
        "cost",
        "own",
        "sig",
        "keep",
        "weak",
        "likely",
        "raw",
        "source",
    )

    def __init__(self, tag: str, open_tag: str, parent: _Node | None):
        self.tag = tag
        self.open = open_tag
        self.items: list = []  # str (escaped text), _Node, or _Omit
        self.parent = parent
        self.cost = 0  # tokens of the whole subtree
        self.own = 0  # tokens of the tags and direct text
        self.sig: tuple = ()
        self.keep = 0  # number of strong keep matches in direct text and attributes
        self.weak = False  # a weak keep form in the direct text
        self.likely = 0
        self.raw = False  # script: items are raw text, not escaped
        self.source: str | None = None  # JSON-LD: the original text, for a tighter trim


class _Omit:
    __slots__ = ("count", "tag")

    def __init__(self, count: int, tag: str):
        self.count, self.tag = count, tag

    def render(self) -> str:
        return f"<!-- {self.count} similar <{self.tag}> elements omitted -->"


def _esc_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _esc_attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


class _Builder:
    """lxml element tree -> _Node tree (cleaned, trimmed, with keep/likely marks)."""

    def __init__(self, needles: _Needles):
        self.needles = needles
        self.sub_rx = needles.sub
        self.weak_rx = needles.weak
        self.trim_rx = needles.any
        self.nodes: list[_Node] = []  # document order

    # -- attributes
    def _attrs(self, el: etree._Element, tag: str) -> tuple[str, int]:
        parts = []
        hits = 0
        data_count = 0
        for name, value in el.attrib.items():
            name, value = str(name).lower(), str(value)
            hit = self.needles.has(value)
            if not hit and (
                len(value) > 2000 or (name not in _ATTRS and not name.startswith("data-"))
            ):
                continue
            value = _norm(value)
            if hit:
                hits += 1
                value = _trim(value, 200, self.sub_rx, head=40)
            elif name.startswith("data-"):
                data_count += 1
                if data_count > 4 or len(value) > 200:
                    continue
                value = _trim(value, 60)
            elif name not in _ATTRS:
                continue
            elif name == "class":
                toks = value.split()
                value = " ".join(toks[:3]) + (" …" if len(toks) > 3 else "")
            elif name in ("href", "src"):
                if len(value) > ATTR_MAX or value.startswith(("javascript:", "data:")):
                    continue
            elif name in ("type", "rel") and tag not in ("script", "input", "link", "button"):
                continue
            else:
                value = _trim(value, ATTR_MAX if name != "content" else TEXT_MAX)
            if name == "itemscope" or (not value and name != "value"):
                parts.append(f" {name}" if name == "itemscope" else f' {name}=""')
            else:
                parts.append(f' {name}="{_esc_attr(value)}"')
        return "".join(parts), hits

    def _text(self, node: _Node, text: str | None) -> None:
        if not text:
            return
        text = _norm(_CONTROL.sub("", text))
        if not text:
            return
        hit = self.needles.has(text)
        if hit:
            node.keep += 1
        if self.weak_rx is not None and self.weak_rx.search(text):
            node.weak = hit = True
        node.likely = max(node.likely, _likely(text[:400]))
        node.items.append(_esc_text(_trim(text, TEXT_MAX, self.trim_rx if hit else None)))

    # -- scripts
    def _script(self, el: etree._Element, parent: _Node) -> None:
        body = el.text or ""
        if not body.strip():
            return
        stype = str(el.get("type") or "").lower()
        has_keep = self.needles.has(body)
        if "ld+json" in stype:
            text = _trim_json(body, self.sub_rx if has_keep else None)
            kind = 1
        elif has_keep or "json" in stype or _DATA_SCRIPT.match(body):
            text = _trim(_WS.sub(" ", body).strip(), 300, self.sub_rx, head=200)
            text = text.replace("</", "<\\/")
            kind = 2
        else:
            return
        attrs = ""
        if stype:
            attrs += f' type="{_esc_attr(_trim(stype, 40))}"'
        if el.get("id"):
            attrs += f' id="{_esc_attr(_trim(_norm(el.get("id")), 60))}"'
        node = _Node("script", f"<script{attrs}>", parent)
        node.raw = True
        node.items.append(text)
        if kind == 1:
            node.source = body
        node.keep = 1 if has_keep else 0
        node.likely = 4 if kind == 1 else 0  # JSON-LD: a key anchor
        parent.items.append(node)
        self.nodes.append(node)

    # -- elements
    def build(self, root: etree._Element) -> _Node:
        top = _Node("#root", "", None)
        # explicit stack: (element, parent node, depth, in_head); tails are queued as str items
        stack: list = [(root, top, 0, False)]
        while stack:
            entry = stack.pop()
            if isinstance(entry[0], str):  # a tail text for a parent node
                self._text(entry[1], entry[0])
                continue
            el, parent, depth, in_head = entry
            tag = el.tag
            if not isinstance(tag, str):
                continue
            tag = tag.rsplit("}", 1)[-1].lower()
            if ":" in tag:
                tag = tag.rsplit(":", 1)[-1]
            if tag == "script":
                self._script(el, parent)
                continue
            if tag in _DROP:
                continue
            if in_head and tag not in _HEAD_KEEP:
                continue
            if tag == "meta":
                name = str(el.get("name") or el.get("property") or el.get("itemprop") or "").lower()
                if el.get("content") is None or name in _BORING_META or not name:
                    continue
            if tag == "link":
                rel = str(el.get("rel") or "").lower()
                href = str(el.get("href") or "")
                hit = self.needles.has(href)
                if "canonical" not in rel and not hit:
                    continue
                node = _Node(
                    "link",
                    f'<link rel="{_esc_attr(_trim(rel, 40))}" href="{_esc_attr(_norm(href))}">',
                    parent,
                )
                node.keep = 1 if hit else 0
                node.likely = 4
                parent.items.append(node)
                self.nodes.append(node)
                continue
            if depth >= MAX_DEPTH:  # flatten hostile nesting into text
                text = " ".join(t for t in el.itertext() if t and t.strip())
                self._text(parent, _trim(text, 4 * TEXT_MAX, self.trim_rx))
                continue
            attrs, hits = self._attrs(el, tag)
            node = _Node(tag, f"<{tag}{attrs}>", parent)
            node.keep = hits
            if tag in ("title", "h1"):
                node.likely = 4
            elif tag == "meta":
                key = str(el.get("property") or el.get("name") or "").lower()
                node.likely = (
                    4 if key in ("og:title", "og:image", "og:url", "author", "description") else 1
                )
            parent.items.append(node)
            self.nodes.append(node)
            self._text(node, el.text)
            child_head = in_head or tag == "head"
            # push children in reverse so they pop in document order, each followed by its tail
            for child in reversed(el):
                if child.tail:
                    stack.append((child.tail, node))
                stack.append((child, node, depth + 1, child_head))
        return top


def _approx(text: str) -> int:
    """Token cost used while selecting (fast; the final view is checked with estimate_tokens)."""
    return len(text) // 3 + 1


def _walk(node: _Node) -> list[_Node]:
    """The nodes of a subtree, parents before children (iterative: no recursion limit)."""
    order: list[_Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        order.append(n)
        stack.extend(c for c in n.items if isinstance(c, _Node))
    return order


def _finish(node: _Node) -> None:
    """Bottom-up: drop empty decoration, compute costs and shape signatures."""
    for n in reversed(_walk(node)):
        items = []
        for c in n.items:
            if isinstance(c, _Node) and c.sig == ("#drop",):
                continue
            items.append(c)
        n.items = items
        if (
            not items
            and n.tag not in _KEEP_EMPTY
            and not re.search(r" (?!class=|id=)[\w-]+=", n.open)
            and n.tag != "#root"
        ):
            n.sig = ("#drop",)
            continue
        own = _approx(n.open) + (0 if n.tag in _VOID else 3)
        own += sum(_approx(c) for c in items if isinstance(c, str))
        n.own = own
        n.cost = own + sum(c.cost for c in items if isinstance(c, _Node))
        m = re.search(r' class="([^"]*)"', n.open)
        classes = ()
        if m:
            classes = tuple(
                sorted({_DIGITS.sub("", t) for t in m.group(1).split() if t not in _STATE_CLASSES})
            )
        n.sig = (n.tag, classes)


def _protected(node: _Node) -> bool:
    """Whether a run item must stay: it holds a keep value, or a likely value and a label
    word (e.g. ``Subtotal ... $12.00``)."""
    marks = 0
    for n in _walk(node):
        if n.keep or n.weak:
            return True
        marks |= n.likely if n.likely < 4 else 0
    return marks & 3 == 3


def _collapse_runs(root: _Node) -> None:
    """Cut runs of RUN_MIN+ similar siblings to their head, keeping protected items."""
    stack = [root]
    while stack:
        n = stack.pop()
        items = n.items
        out: list = []
        i = 0
        while i < len(items):
            c = items[i]
            if not isinstance(c, _Node) or c.tag in ("td", "th", "br", "meta", "script", "link"):
                out.append(c)
                i += 1
                continue
            j = i + 1
            while j < len(items) and isinstance(items[j], _Node) and items[j].sig == c.sig:
                j += 1
            run = items[i:j]
            if len(run) < RUN_MIN:
                out.extend(run)
            else:
                omitted = 0
                for k, item in enumerate(run):
                    if k < RUN_HEAD or _protected(item):
                        if omitted:
                            out.append(_Omit(omitted, c.tag))
                            omitted = 0
                        out.append(item)
                    else:
                        omitted += 1
                if omitted:
                    out.append(_Omit(omitted, c.tag))
            i = j
        n.items = out
        for c in out:
            if isinstance(c, _Node):
                stack.append(c)
    _recost(root)


def _recost(root: _Node) -> None:
    for n in reversed(_walk(root)):
        extra = sum(12 for c in n.items if isinstance(c, _Omit))
        n.cost = n.own + extra + sum(c.cost for c in n.items if isinstance(c, _Node))


# --------------------------------------------------------------------------- rendering


def _render(root: _Node, sel: _Selection | None = None) -> str:
    """Serialise the tree, or with ``sel`` only the selected parts (gaps as ``<!--…-->``)."""
    out: list[str] = []

    def emit(n: _Node, whole: bool) -> None:
        if n.tag != "#root":
            if n.tag in _BLOCK:
                out.append("\n")
            out.append(n.open)
        show_text = whole or id(n) in sel.part
        gap = False
        for c in n.items:
            if isinstance(c, _Node) and (whole or id(c) in sel.full or id(c) in sel.path):
                emit(c, whole or id(c) in sel.full)
            elif isinstance(c, _Omit) and whole:
                out.append(c.render())
            elif isinstance(c, str) and show_text:
                out.append(c if n.raw or (out and out[-1].endswith((">", "\n"))) else " " + c)
            else:  # hidden: one marker per run of hidden items
                if not gap:
                    out.append("<!--…-->")
                gap = True
                continue
            gap = False
        if n.tag != "#root" and n.tag not in _VOID:
            out.append(f"</{n.tag}>")

    emit(root, sel is None)
    return "".join(out).strip()


# --------------------------------------------------------------------------- budget selection

_QUIET = frozenset(("meta", "link", "script", "title"))  # anchors shown without neighbours


def _anchors(nodes: list[_Node], needles: _Needles) -> list[tuple[int, int, _Node, bool]]:
    """(tier, order, node, with_neighbourhood), best first.

    Tier 0: nodes holding a keep form (the first few per form; forced, whatever the budget).
    Tier 1: their neighbourhoods, title/h1/JSON-LD/canonical/key meta.  Tier 2: likely values
    with a label word nearby.  Tier 3: bare likely values.  Tier 4: label words, other meta.
    """
    found: list[tuple[int, int, _Node, bool]] = []
    seen: dict[str, int] = {}

    def fresh(rx: re.Pattern | None, text: str, cap: int) -> bool:
        if rx is None:
            return False
        new = False
        for form in {m.group(0).lower() for m in rx.finditer(text)}:
            if seen.get(form, 0) < cap:
                seen[form] = seen.get(form, 0) + 1
                new = True
        return new

    for order, n in enumerate(nodes):
        quiet = n.tag in _QUIET
        forced = False
        if n.keep or n.weak:
            direct = " ".join(c for c in n.items if isinstance(c, str))
            forced = n.keep and fresh(
                needles.sub, _html.unescape(n.open + " " + direct), KEEP_ANCHORS_PER_FORM
            )
            forced = fresh(needles.weak, _html.unescape(direct), 1) or forced
        if forced:
            found.append((0, order, n, False))
            if not quiet:
                found.append((1, order, n, True))
        elif n.likely >= 4:
            found.append((1, order, n, not quiet))
        elif n.likely == 3:
            found.append((2, order, n, True))
        elif n.likely == 2:
            prev = _siblings(n)[0]
            labelled = (prev is not None and prev.likely & 1) or (
                n.parent is not None and n.parent.likely & 1
            )
            found.append((2 if labelled else 3, order, n, True))
        elif n.likely == 1:
            found.append((4, order, n, False))
    found.sort(key=lambda t: (t[0], t[1]))
    return found


def _siblings(n: _Node) -> tuple[_Node | None, _Node | None]:
    """The previous and next element siblings of ``n``."""
    if n.parent is None:
        return None, None
    sibs = [c for c in n.parent.items if isinstance(c, _Node)]
    for i, c in enumerate(sibs):
        if c is n:
            return (sibs[i - 1] if i else None), (sibs[i + 1] if i + 1 < len(sibs) else None)
    return None, None


def _neighbourhood(n: _Node) -> list[_Node]:
    """The anchor widened to its largest small ancestor, plus the adjacent siblings."""
    ctx = n
    while (
        ctx.parent is not None and ctx.parent.tag != "#root" and ctx.parent.cost <= CONTEXT_TOKENS
    ):
        ctx = ctx.parent
    return [ctx] + [s for s in _siblings(ctx) if s is not None and s.cost <= CONTEXT_TOKENS]


class _Selection:
    """Which nodes a budgeted view shows: whole (``full``), own text only (``part``), or
    as bare tags on the way to them (``path``)."""

    def __init__(self) -> None:
        self.full: set[int] = set()
        self.part: set[int] = set()
        self.path: set[int] = set()
        self.used = 0

    def add(self, node: _Node, whole: bool, budget: int | None) -> None:
        anc, new_path = node.parent, 0
        while anc is not None:
            if id(anc) in self.full:
                return
            if id(anc) not in self.path:
                new_path += _approx(anc.open) + 4
            anc = anc.parent
        if id(node) in self.full or (not whole and id(node) in self.part):
            return
        cost = (node.cost if whole else node.own) + new_path + 3
        if budget is not None and self.used + cost > budget:
            return
        self.used += cost
        (self.full if whole else self.part).add(id(node))
        anc = node if not whole else node.parent
        while anc is not None and id(anc) not in self.path:
            self.path.add(id(anc))
            anc = anc.parent


def _select(root: _Node, anchors: list, budget: int) -> str:
    """Render the forced anchors, then every optional one that still fits, best first."""
    sel = _Selection()
    for tier, _order, a, hood in anchors:
        if tier == 0:
            sel.add(a, a.cost <= 2 * CONTEXT_TOKENS, None)
            continue
        if budget <= 0 or sel.used >= budget:
            break
        for pick in _neighbourhood(a) if hood else [a]:
            if pick.cost <= 4 * CONTEXT_TOKENS:
                sel.add(pick, True, budget)
            elif pick is a:
                sel.add(pick, False, budget)
    return _render(root, sel)


def _within_budget(root: _Node, nodes: list[_Node], needles: _Needles, budget: int) -> str:
    anchors = _anchors(nodes, needles)
    best = _select(root, anchors, 0)
    if estimate_tokens(best) > budget:
        # the keep values alone are over budget: trim JSON-LD harder, then they win
        tightened = False
        for n in nodes:
            if n.source is not None:
                n.items = [_trim_json(n.source, needles.sub, tight=True)]
                n.own = n.cost = _approx(n.open) + 3 + _approx(n.items[0])
                tightened = True
        if tightened:
            _recost(root)
            best = _select(root, anchors, 0)
        if estimate_tokens(best) > budget:
            return best
    # selection costs are approximations: correct the target until the real estimate fits
    target = budget
    for _ in range(8):
        view = _select(root, anchors, target)
        tokens = estimate_tokens(view)
        if tokens <= budget:
            return view
        target = int(target * budget / tokens * 0.97)
    return best


# --------------------------------------------------------------------------- entry points

_TAG_RE = re.compile(r"<[^<>]{0,2000}>")


def _text_view(page: str, limit_chars: int, rx: re.Pattern | None) -> str:
    """Fallback: a plain-text view of anything, trimmed around keep values."""
    text = (
        _TAG_RE.sub(" ", page[: 4 * 1024 * 1024])
        if len(page) > 4 * 1024 * 1024
        else _TAG_RE.sub(" ", page)
    )
    text = _norm(_html.unescape(text))
    return _esc_text(_trim(text, max(200, limit_chars), rx, head=limit_chars // 2))


def _clean_input(page: object) -> str:
    if page is None:
        return ""
    if isinstance(page, bytes | bytearray):
        page = bytes(page).decode("utf-8", "replace")
    elif not isinstance(page, str):
        page = str(page)
    return _CONTROL.sub("", page)


def _parse(page: str) -> etree._Element | None:
    if not page.strip():
        return None
    parser = etree.HTMLParser(
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
        no_network=True,
        recover=True,
        huge_tree=True,  # big text nodes of 50 MB pages; libxml2 still caps nesting at 2048
    )
    root = etree.fromstring(page.encode("utf-8", "replace"), parser)
    return root


def _build(page: str, needles: _Needles) -> tuple[_Node | None, list[_Node]]:
    root_el = _parse(page)
    if root_el is None:
        return None, []
    builder = _Builder(needles)
    root = builder.build(root_el)
    _finish(root)
    return root, [n for n in builder.nodes if n.sig != ("#drop",)]


_ENTITY_CHARS = re.compile("[&<>\"']")


def _safety_net(view: str, page: str, needles: _Needles) -> str:
    """Append a text excerpt for each keep form in the page but missing from the view."""
    if not needles.forms:
        return view
    from autoheal.scoring import normalize_text, page_text

    low_view = normalize_text(view).lower()
    view_text = page_text(view).lower()
    missing = [f for f in needles.forms if f not in low_view and f not in view_text]
    if not missing:
        return view
    # most missing forms are simply not in the page (a label has many forms): a quick look at
    # the raw page settles plain ASCII forms; the full normalisation is for the rest
    quick = page.lower()
    for entity in ("&nbsp;", "&#160;", "&#xa0;"):
        quick = quick.replace(entity, " ")
    quick = _WS.sub(" ", quick)
    quick_text = _WS.sub(" ", _TAG_RE.sub(" ", quick))
    missing = [
        f
        for f in missing
        if f in quick or f in quick_text or not f.isascii() or _ENTITY_CHARS.search(f)
    ]
    if not missing:
        return view
    markup = normalize_text(page)
    text = normalize_text(_TAG_RE.sub(" ", page))
    low_markup, low_text = markup.lower(), text.lower()
    extra: list[str] = []
    for form in missing:
        for source, low in ((text, low_text), (markup, low_markup)):
            pos = low.find(form)
            if pos >= 0:
                snippet = source[max(0, pos - 80) : pos + len(form) + 80]
                extra.append(f"<p>… {_esc_text(snippet)} …</p>")
                break
    if not extra:
        return view
    return view + "\n<!-- excerpts -->\n" + "\n".join(dict.fromkeys(extra))


def compress_page(
    html: str,
    *,
    budget_tokens: int = 8000,
    keep: Iterable[str] = (),
    max_ratio: float = 0.05,
) -> str:
    """A compact, HTML-like view of ``html`` for a prompt (see the module docstring).

    ``keep``: surface forms of labelled values that must survive when they occur in the page.
    The view fits ``min(budget_tokens, max(FLOOR_TOKENS, max_ratio * estimate_tokens(html)))``
    tokens unless the keep values alone need more.  Deterministic; never raises.
    """
    page = _clean_input(html)
    try:
        needles = _Needles(keep)
    except Exception:  # noqa: BLE001 - odd keep values must never break compression
        needles = _Needles(())
    try:
        raw_tokens = estimate_tokens(page)
        budget = max(1, int(min(budget_tokens, max(FLOOR_TOKENS, max_ratio * raw_tokens))))
    except Exception:  # noqa: BLE001 - e.g. a NaN ratio
        budget = FLOOR_TOKENS
    try:
        root, nodes = _build(page, needles)
        if root is None:
            view = _text_view(page, 4 * budget, needles.any)
        else:
            _collapse_runs(root)
            view = _render(root)
            if estimate_tokens(view) > budget:
                view = _within_budget(root, nodes, needles, budget)
    except Exception:  # noqa: BLE001 - hostile pages fall back to text
        view = _text_view(page, 4 * budget, needles.any)
    try:
        return _safety_net(view, page, needles)
    except Exception:  # noqa: BLE001
        return view


def fragment_around(html: str, value_forms: Iterable[str], *, max_chars: int = 1500) -> str | None:
    """The element around the first occurrence of any form, with its label context.

    Starts at the first element (document order) whose own text or attributes contain a form,
    widens to its parent while that still fits ``max_chars`` (so the label next to the value
    shows), and trims the result to about ``max_chars``.  A value split across elements is
    shown as a text excerpt.  None when no form occurs in the page; never raises.
    """
    page = _clean_input(html)
    needles = None
    try:
        needles = _Needles(value_forms)
        if needles.any is None:
            return None
        root, nodes = _build(page, needles)
        hit = next((n for n in nodes if n.keep or n.weak), None)
        if hit is None:
            return _text_fragment(page, needles.any, max_chars)
        ctx, view = hit, _render_subtree(hit)
        while ctx.parent is not None and ctx.parent.tag not in ("#root", "html", "body"):
            wider = _render_subtree(ctx.parent)
            if len(wider) > max_chars:
                break
            ctx, view = ctx.parent, wider
        if ctx is hit:
            prev = _siblings(ctx)[0]  # the label may sit in the previous sibling
            if prev is not None:
                wider = _render_subtree(prev) + view
                if len(wider) <= max_chars:
                    view = wider
        if len(view) > max_chars:
            view = _trim(view, max_chars, needles.any, head=max_chars // 3)
        return view
    except Exception:  # noqa: BLE001 - hostile pages: a text excerpt, or nothing
        try:
            return _text_fragment(page, needles.any if needles else None, max_chars)
        except Exception:  # noqa: BLE001
            return None


def _render_subtree(n: _Node) -> str:
    holder = _Node("#root", "", None)
    holder.items = [n]
    return _render(holder)


def _text_fragment(page: str, rx: re.Pattern | None, max_chars: int) -> str | None:
    if rx is None:
        return None
    text = _norm(_html.unescape(_TAG_RE.sub(" ", page)))
    m = rx.search(text)
    if m is None:
        return None
    half = max(20, (max_chars - len(m.group(0))) // 2)
    return _esc_text(text[max(0, m.start() - half) : m.end() + half])
