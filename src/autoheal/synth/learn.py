"""Candidate locators for one field, and the choice among them by train accuracy.

For every seed page (a train page with a label for the field) the learner finds where the label
occurs -- text nodes, attribute values, JSON-LD leaves, raw HTML -- and proposes locators that
would find that spot again on *another* page of the same template: ids and stable attributes
first, label anchors (the page's own wording before the value), class names, JSON-LD key paths,
left/right delimiters learned across all labelled pages, and only last absolute positions.
Each locator is paired with the transforms that turn its raw text into the label (money token,
date, ISO duration, cut after a learned prefix, value shape).  Every pair is run on every train
page with :mod:`autoheal.synth.runtime` and scored with :func:`autoheal.scoring.values_match`;
the best pair (ties: lower cost = simpler, more stable) starts the field's chain and further
pairs are appended only while they fix train pages the chain still gets wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from autoheal.scoring import normalize_text, surface_forms, values_match
from autoheal.synth import runtime as rt

__all__ = ["Candidate", "learn_field", "banned_literals"]

MAX_HITS = 12  # text/attribute hits per seed page
_VALUE_ATTRS = ("content", "value", "title", "href", "src", "alt", "datetime", "label")
_ANCHOR_ATTRS = (
    ("itemprop", 1.4), ("property", 1.4), ("name", 1.5), ("rel", 1.6), ("data-testid", 1.8),
    ("data-test", 1.8), ("data-qa", 1.8), ("data-field", 1.8), ("aria-label", 2.2),
    ("role", 2.6), ("type", 2.8),
)
_COMMON_TAGS = {"div", "span", "td", "tr", "p", "a", "li", "b", "strong", "font", "i", "em",
                "th", "table", "tbody", "br", "section", "ul", "small", "label", "center"}
_UNSTABLE = re.compile(r"\d{4,}|[0-9a-f]{8,}|^[\W_]*$", re.I)
_VOLATILE = re.compile(r"\d{4,}|[0-9a-f]{8,}", re.I)
_DECIMAL = re.compile(r"-?\d+\.\d{2}")
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_MARKUP_WORDS = {
    "id", "class", "contains", "concat", "normalize", "space", "content", "href", "src", "value",
    "div", "span", "td", "tr", "a", "meta", "property", "name", "itemprop", "last", "s", "re",
}


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORDS.findall(text)} - _MARKUP_WORDS


def _name_bonus(field: str, cand: Candidate) -> float:
    """How much a locator's own wording (keys, attribute values, anchors) names the field."""
    wanted = {w for w in field.lower().split("_") if w and w != "id"}
    if not wanted:
        return 0.0
    loc = cand.loc
    text = " ".join([loc.get("type", ""), *loc.get("path", []), loc.get("x", ""),
                     loc.get("label", ""), loc.get("re", "")])
    return 0.5 * len(wanted & _words(text)) / len(wanted)


@dataclass(frozen=True)
class Candidate:
    """One (locator, transform) pair with its cost (lower = simpler / more stable)."""

    loc: dict
    tr: dict
    cost: float

    @property
    def key(self) -> str:
        return json.dumps([self.loc, self.tr], sort_keys=True, ensure_ascii=False)

    @property
    def loc_key(self) -> str:
        return json.dumps(self.loc, sort_keys=True, ensure_ascii=False)


def banned_literals(pages, fields, types) -> set[str]:
    """Lowercased label surface forms a generated literal must never contain."""
    banned = set()
    for page in pages:
        for field in fields:
            label = page.truth.get(field)
            if not label:
                continue
            parts = [label] + (label.split("|") if "|" in label else [])
            for part in parts:
                for form in surface_forms(part, types.get(field, "text")):
                    if len(form) >= 4:
                        banned.add(form.lower())
                slug = "-".join(re.findall(r"\w+", part.lower()))
                if len(slug) >= 8 and "-" in slug:
                    banned.add(slug)
    return banned


def _literals(cand: Candidate) -> list[str]:
    loc, tr = cand.loc, cand.tr
    out = [loc.get("label", ""), loc.get("x", ""), loc.get("re", ""), tr.get("pre", ""),
           tr.get("suf", "")]
    return [s.lower() for s in out if s]


def _lit(value: str) -> str | None:
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return None


def _stable(value: str | None) -> bool:
    return bool(value) and len(value) <= 60 and not _UNSTABLE.search(value) and "\n" not in value


def _class_pred(token: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {token} ')"


def _own_preds(el) -> list[tuple[str, float]]:
    """XPath predicates that pick an element by its own stable attributes."""
    preds = []
    ident = el.get("id")
    if _stable(ident) and _lit(ident):
        preds.append((f"@id={_lit(ident)}", 1.0))
    for attr, cost in _ANCHOR_ATTRS:
        value = el.get(attr)
        if _stable(value) and _lit(value):
            preds.append((f"@{attr}={_lit(value)}", cost))
    tokens = [t for t in (el.get("class") or "").split() if _stable(t) and _lit(t)]
    for token in tokens[:4]:
        preds.append((_class_pred(token), 3.0))
    return preds


def _xpaths(el) -> list[tuple[str, float]]:
    """XPaths that reach ``el``, most stable first in cost."""
    tag = el.tag
    out = [(f"//{tag}[{pred}]", cost) for pred, cost in _own_preds(el)]
    if tag not in _COMMON_TAGS:
        out.append((f"//{tag}", 4.5))
    steps = []
    child, anc, anchored = el, el.getparent(), 0
    while anc is not None and len(steps) < 5 and anchored < 2:
        same = [c for c in anc if c.tag == child.tag]
        steps.insert(0, f"{child.tag}[{same.index(child) + 1}]" if len(same) > 1 else child.tag)
        preds = [p for p in _own_preds(anc) if p[1] <= 3.0]
        if preds:
            pred, cost = min(preds, key=lambda p: p[1])
            base = f"//{anc.tag}[{pred}]"
            out.append((base + "/" + "/".join(steps), cost + 1.5 + 0.2 * len(steps)))
            out.append((f"{base}//{tag}", cost + 2.0))
            anchored += 1
        child, anc = anc, anc.getparent()
    try:
        out.append((el.getroottree().getpath(el), 8.0))
    except ValueError:
        pass
    return out


def _transforms(raw: str, target: str, ftype: str) -> list[tuple[dict, float]]:
    """Transforms that turn ``raw`` into ``target`` (a value of type ``ftype``)."""
    options: list[tuple[dict, float]] = [({"t": "text"}, 0.0)]
    canon = ftype in ("id", "text") and bool(_DECIMAL.fullmatch(target))
    if ftype in ("money", "number") or canon:
        for pick, c in (("first", 0.1), ("last", 0.15)):
            options.append(({"t": "money", "pick": pick, "canon": canon}, c))
    if ftype == "date":
        options.append(({"t": "date"}, 0.1))
    if target.isdigit() and rt.parse_minutes(raw) is not None:
        options.append(({"t": "minutes"}, 0.2))
    low, tlow = raw.lower(), target.lower()
    i = low.find(tlow)
    url = re.match(r"(https?:)?//", low) and not re.match(r"(https?:)?//", tlow)
    if ftype in ("id", "text") and i >= 0 and low != tlow and not url:
        pre, suf = low[:i].strip(), low[i + len(tlow):].strip()
        pres = {pre, " ".join(pre.split()[-2:]), (pre.split() or [""])[-1]}
        sufs = {suf, (suf.split() or [""])[0]}
        for p in sorted(pres):
            for s in sorted(sufs):
                if (p or s) and not _VOLATILE.search(p + " " + s):
                    options.append(({"t": "cut", "pre": p, "suf": s}, 0.3 + 0.01 * len(p + s)))
    if ftype == "id" and i >= 0:
        shape = re.sub(r"[A-Z]+", "[A-Z]+", re.sub(r"\d+", "D", target))
        shape = re.sub(r"[a-z]+", "[a-z]+", shape)
        shape = "".join(re.escape(c) if c in ".-/#:_" else c for c in shape).replace("D", r"\d+")
        options.append(({"t": "token", "re": r"(?<![\w-])" + shape + r"(?![\w-])"}, 0.4))
    return [(tr, c) for tr, c in options if _match(target, rt.transform(raw, tr), ftype)]


def _forms(target: str, ftype: str) -> list[str]:
    kind = "money" if _DECIMAL.fullmatch(target) else ftype
    return [f.lower() for f in surface_forms(target, kind)]


def _has_letter(text: str) -> bool:
    return any(c.isalpha() for c in text)


def _text_candidates(doc, target, ftype, forms, joiner):
    out = []
    segs = doc.segments()
    hits = [(low != forms[0] and low not in forms, len(low), i)
            for i, (_t, low, _n) in enumerate(segs) if any(f in low for f in forms)]
    for _inexact, _len, i in sorted(hits)[:MAX_HITS]:
        text, low, node = segs[i]
        form = next(f for f in forms if f in low)
        prefix = low[: low.find(form)].strip()
        if prefix and _has_letter(prefix) and len(prefix) <= 60:
            loc = {"kind": "label", "label": prefix, "mode": "same"}
            out += [(loc, text[len(prefix):].strip(), 2.2)]
        for back in (1, 2):
            if i - back >= 0:
                label = segs[i - back][1].rstrip(" :")
                if _has_letter(label) and len(label) <= 50:
                    loc = {"kind": "label", "label": label, "mode": "next", "skip": back - 1}
                    out += [(loc, text, 2.0 + back - 1)]
        el = node
        for level in range(2):
            if el is None or not isinstance(el.tag, str) or el.tag in ("html", "body"):
                break
            raw = rt._node_text(el)
            if len(raw) > 3 * len(text) + 40:
                break
            out += _xpath_candidates(doc, el, "", raw, level)
            el = el.getparent()
    if joiner:
        out = [({**loc, "all": joiner}, raw, cost) for loc, raw, cost in out]
    return out


def _xpath_candidates(doc, el, suffix, raw, level):
    out = []
    for xp, cost in _xpaths(el):
        full = xp + suffix
        if xp.startswith("/html"):
            out.append(({"kind": "xpath", "x": full}, raw, cost + 0.3 * level))
            continue
        found = doc.xpath(xp)
        pos = next((k for k, f in enumerate(found) if f is el), None)
        cost += 0.3 * level
        out.append(({"kind": "xpath", "x": full}, raw, cost))
        if pos and len(found) > 1:
            out.append(({"kind": "xpath", "x": f"({xp})[{pos + 1}]{suffix}"}, raw, cost + 2.0))
            if pos == len(found) - 1:
                out.append(({"kind": "xpath", "x": f"({xp})[last()]{suffix}"}, raw, cost + 1.5))
    return out


def _attr_candidates(doc, forms):
    out, seen = [], 0
    for el in doc.root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr, value in el.attrib.items():
            if attr not in _VALUE_ATTRS and not attr.startswith("data-"):
                continue
            low = normalize_text(value).lower()
            if not any(f in low for f in forms) or not re.fullmatch(r"[\w:-]+", attr):
                continue
            raw = normalize_text(value)
            out += _xpath_candidates(doc, el, f"/@{attr}", raw, 0)
            seen += 1
        if seen >= MAX_HITS:
            break
    return out


def _flatten(obj, path, depth, out):
    if depth > 4:
        return
    while isinstance(obj, list):
        if obj and all(not isinstance(v, dict | list) for v in obj):
            out.append((path, "join"))
            out.append((path, "first"))
            return
        obj = obj[0] if obj else None
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key != "@context":
                _flatten(value, path + [key], depth + 1, out)
    elif obj is not None:
        out.append((path, "join"))


def _jsonld_candidates(doc, target=""):
    """Key paths under a typed JSON-LD object; the biggest object (the page's main entity)
    is preferred on ties."""
    out = []
    typed = doc.typed_objects()
    biggest = max((len(obj) for _k, obj, _n in typed), default=0)
    for kinds, obj, nested in typed:
        nested = nested or len(obj) < biggest
        paths: list = []
        _flatten(obj, [], 0, paths)
        for path, leaf in paths:
            if not path:
                continue
            loc = {"kind": "jsonld", "type": kinds[0], "path": path}
            if leaf == "first":
                loc["leaf"] = "first"
            raw = rt._walk(obj, path, leaf)
            if raw:
                cost = 1.0 + 0.5 * nested + 0.1 * len(path) + 0.05 * (leaf == "first")
                out.append((loc, rt._unescape(raw), cost))
        if target and target.isdigit():
            out += _duration_sums(kinds[0], obj, paths, int(target), nested)
    return out


def _duration_sums(kind, obj, paths, target, nested):
    """Two ISO-8601 durations of one object that add up to the target minutes (a total time
    that the page only gives as its parts).  Costlier than any single key, so a key holding
    the total itself always wins; the sum is kept only where it is right on train."""
    durations = []
    for path, leaf in paths:
        raw = rt._walk(obj, path, leaf) if leaf == "join" else None
        if raw and re.fullmatch(r"\s*P[\dDTHMS.]+\s*", raw, re.I):
            minutes = rt.parse_minutes(raw)
            if minutes is not None and 0 < int(minutes) < target:
                durations.append((path, int(minutes)))
    out = []
    for i, (path_a, a) in enumerate(durations):
        for path_b, b in durations[i + 1:]:
            if a + b == target:
                loc = {"kind": "jsonld", "type": kind, "path": path_a, "plus": [path_b]}
                cost = 2.0 + 0.5 * nested + 0.1 * (len(path_a) + len(path_b))
                out.append((loc, f"PT{target}M", cost))
    return out


def _ws_pattern(literal: str) -> str:
    return r"\s*".join(re.escape(part) for part in re.split(r"\s+", literal))


def _occurrences(html: str, forms: list[str]) -> list[tuple[int, int]]:
    spots = []
    for form in forms:
        start = html.find(form)
        while start >= 0 and len(spots) < 40:
            spots.append((start, start + len(form)))
            start = html.find(form, start + 1)
    return sorted(set(spots))


def _common_suffix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _regex_candidates(seed_doc, seed_target, others, ftype, joiner):
    """Left/right delimiters around the value, common to every labelled page."""
    out = []
    html = seed_doc.html
    seed_forms = [f for f in surface_forms(seed_target, ftype) if f]
    for start, end in _occurrences(html, seed_forms)[:MAX_HITS]:
        left, right = html[max(0, start - 48):start], html[end:end + 12]
        lens_l, lens_r = [len(left)], [len(right)]
        for doc, target in others:
            best = (0, 0)
            for s, e in _occurrences(doc.html, [f for f in surface_forms(target, ftype) if f]):
                ls = _common_suffix(left, doc.html[max(0, s - 48):s])
                rs = len(_common_prefix(right, doc.html[e:e + 12]))
                best = max(best, (ls, rs))
            lens_l.append(best[0])
            lens_r.append(best[1])
        nl, nr = min(lens_l), min(lens_r)
        lit_l, lit_r = left[len(left) - nl:], right[:nr]
        if (not lit_r or not re.search(r"[A-Za-z]{3}", lit_l) or _VOLATILE.search(lit_l + lit_r)
                or len(re.findall(r"\d+", lit_l)) >= 3):
            continue
        pattern = _ws_pattern(lit_l) + r"(.{1,300}?)" + _ws_pattern(lit_r)
        loc = {"kind": "regex", "re": pattern}
        if joiner:
            loc["all"] = joiner
        m = re.search(pattern, html)
        if m:
            out.append((loc, rt._unescape(m.group(1)), 4.0 - min(nl, 40) / 200))
    return out


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def propose(doc, target, ftype, others, joiner) -> list[Candidate]:
    """All (locator, transform) candidates from one seed page whose label is ``target``."""
    if doc.root is None:
        return []
    forms = _forms(target, ftype)
    found = _text_candidates(doc, target, ftype, forms, joiner)
    found += [(loc if not joiner else {**loc, "all": joiner}, raw, cost)
              for loc, raw, cost in _attr_candidates(doc, forms)]
    if not joiner:
        found += _jsonld_candidates(doc, target)
    search_type = "money" if _DECIMAL.fullmatch(target) else ftype
    found += _regex_candidates(doc, target, others, search_type, joiner)
    part_type = "id" if joiner else ftype
    out = []
    for loc, raw, cost in found:
        for tr, tcost in _transforms(raw, target, part_type):
            out.append(Candidate(loc, tr, round(cost + tcost, 3)))
    return out


@lru_cache(maxsize=65536)
def _match(expected, got, ftype) -> bool:
    return values_match(expected, got, ftype)


def _score(values, labels, ftype) -> int:
    return sum(_match(lab, got, ftype) for lab, got in zip(labels, values, strict=True))


def _joiner(labels) -> str | None:
    """``|`` when the labels are lists joined with a bare ``|`` (``12.00|7.99``)."""
    joined = [lab for lab in labels if lab and "|" in lab]
    if joined and not any(re.search(r"\s\||\|\s", lab) for lab in joined):
        return "|"
    return None


def learn_field(docs, labels, ftype, *, field="", seeds, banned, max_chain):
    """The chain ``[(Candidate, cumulative train correct), ...]`` for one field."""
    labelled = [i for i, lab in enumerate(labels) if lab]
    if not labelled:
        return []
    joiner = _joiner(labels)
    targets = {i: (labels[i].split("|")[0] if joiner else labels[i]) for i in labelled}
    cands: dict[str, Candidate] = {}
    for i in seeds:
        others = [(docs[j], targets[j]) for j in labelled if j != i]
        for cand in propose(docs[i], targets[i], ftype, others, joiner):
            if any(b in lit for lit in _literals(cand) for b in banned):
                continue
            adjust = -_name_bonus(field, cand)
            if cand.loc["kind"] == "label" and re.search(r"\d", cand.loc["label"]):
                adjust += 1.0
            cand = Candidate(cand.loc, cand.tr, round(cand.cost + adjust, 3))
            old = cands.get(cand.key)
            if old is None or cand.cost < old.cost:
                cands[cand.key] = cand
    raws: dict[str, list] = {}
    results = []
    for cand in sorted(cands.values(), key=lambda c: (c.cost, c.key)):
        if cand.loc_key not in raws:
            raws[cand.loc_key] = [_safe_locate(doc, cand.loc) for doc in docs]
        values = [_safe_apply(r, cand.loc, cand.tr) for r in raws[cand.loc_key]]
        results.append((cand, values))
    return _greedy_chain(results, labels, ftype, max_chain)


def _safe_locate(doc, loc):
    try:
        return rt.locate(doc, loc)
    except Exception:  # noqa: BLE001 - same as the runtime: a failing locator finds nothing
        return None


def _safe_apply(raws, loc, tr):
    if raws is None:
        return None
    try:
        return rt.apply(raws, loc, tr)
    except Exception:  # noqa: BLE001
        return None


def _greedy_chain(results, labels, ftype, max_chain):
    current = [None] * len(labels)
    base = _score(current, labels, ftype)
    chain = []
    while len(chain) < max_chain:
        best = None
        for cand, values in results:
            merged = [c if c is not None else v for c, v in zip(current, values, strict=True)]
            score = _score(merged, labels, ftype)
            if score > base and (best is None or (score, -cand.cost) > (best[0], -best[1].cost)):
                best = (score, cand, merged)
        if best is None:
            break
        base, cand, current = best
        chain.append((cand, base))
    if chain and base == len(labels) and len(chain) < max_chain:
        chain += _backup(results, chain, labels, ftype)
    return chain


def _backup(results, chain, labels, ftype):
    """For a chain that is right on every train page: a sum of durations (``prepTime +
    cookTime``) that is right on every train page too, as a fallback for pages that leave
    the total out.  It runs only where the chain finds nothing, so it cannot change a value
    the chain reads; it only fills a gap with a value verified on train."""
    used = {cand.loc_key for cand, _ in chain}
    for cand, values in results:  # cheapest first
        if "plus" not in cand.loc or cand.loc_key in used:
            continue
        if any(v is None for v, lab in zip(values, labels, strict=True) if lab):
            continue
        if _score(values, labels, ftype) == len(labels):
            return [(cand, len(labels))]
    return []
