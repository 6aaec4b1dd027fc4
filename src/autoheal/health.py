"""Health of a store's script on new, unlabelled pages, compared with its labelled pages.

Without labels nobody can say whether a value is *right*; what can be measured is whether the
script still behaves on the new pages the way it behaved on the pages it was healed on.  Per
store and field, every page is one of:

* ``crash``  -- the script raised, timed out or returned something that is not a dict;
* ``empty``  -- no value for the field;
* ``shape``  -- a value whose shape differs from the labelled ones (see :class:`FieldProfile`:
  a money or date that no longer parses, an amount written with other decimal places than the
  labels (``$1,234`` where every label has cents), an id
  with characters or a length the labels never had, a text far longer than any label);
* ``ok``     -- anything else.

The *health* of a field is the share of ``ok`` pages.  The reference is the same script run on
the store's labelled pages (train and test: known-good pages of the same template, more of
them than train alone, so the reference is steadier); legitimately empty fields (a digital
order without a subtotal) count against both sides alike.  A field **drifts** when its health
on the new pages is lower than on the labelled pages by more than ``threshold`` percentage
points *and* that drop is unlikely to be chance: the number of bad new pages must be improbable
under the reference's bad-page rate (one-sided binomial tail below ``alpha``, with the rate
smoothed by one pseudo-page either way, so 10 reference pages never claim a 0 % rate).  A store
drifts when any of its fields does.  ``bench/bench_health.py`` measures recall and false alarms
of exactly this rule on simulated template changes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .scoring import normalize_text, parse_date, parse_money

__all__ = [
    "DEFAULT_THRESHOLD",
    "DEFAULT_ALPHA",
    "FieldProfile",
    "profile_fields",
    "classify",
    "field_health",
    "store_health",
]

DEFAULT_THRESHOLD = 20.0  # percentage points of health lost before a field counts as drifted
DEFAULT_ALPHA = 0.05  # chance level of the binomial guard (bench/bench_health.py)
_TEXT_SLACK = 3.0  # a text/id value may be up to 3x the longest label (and 1/3 of the shortest)


def _char_classes(text: str) -> set[str]:
    out = set()
    for ch in text:
        if ch.isdigit():
            out.add("digit")
        elif ch.isalpha():
            out.add("upper" if ch.isupper() else "lower" if ch.islower() else "alpha")
        elif ch.isspace():
            out.add("space")
        else:
            out.add(ch)
    return out


def _decimals(amount) -> int:
    """Decimal places as written (``12.50`` -> 2, ``12`` -> 0, ``1.23450`` -> 5)."""
    exponent = amount.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@dataclass
class FieldProfile:
    """What the labelled values of one field look like."""

    ftype: str
    decimals: frozenset[int] = frozenset()
    classes: frozenset[str] = frozenset()
    min_len: int = 0
    max_len: int = 0

    @classmethod
    def learn(cls, ftype: str, values: Iterable[object]) -> FieldProfile:
        texts = [normalize_text(v) for v in values]
        texts = [t for t in texts if t]
        prof = cls(ftype=ftype)
        if not texts:
            return prof
        if ftype in ("money", "number"):
            amounts = [a for a in (parse_money(t) for t in texts) if a is not None]
            prof.decimals = frozenset(_decimals(a) for a in amounts)
        classes: set[str] = set()
        for t in texts:
            classes |= _char_classes(t)
        prof.classes = frozenset(classes)
        prof.min_len = min(len(t) for t in texts)
        prof.max_len = max(len(t) for t in texts)
        return prof

    def fits(self, value: object) -> bool:
        """Whether a non-empty extracted value has the shape of the labels."""
        text = normalize_text(value)
        if self.ftype in ("money", "number"):
            amount = parse_money(text)
            if amount is None:
                return False
            # the labels' decimal places: $1,234<sup>50</sup> read as "$1,234" or "$1,23450"
            # parses, but with 0 or 5 decimals where every label had 2
            return not self.decimals or _decimals(amount) in self.decimals
        if self.ftype == "date":
            return parse_date(text) is not None
        if not self.max_len:  # no labels to compare with
            return True
        if len(text) > self.max_len * _TEXT_SLACK or len(text) * _TEXT_SLACK < self.min_len:
            return False
        if self.ftype == "id":
            # Ids keep their alphabet: letters, digits and separators the labels use (letter
            # case is not held against them).
            loose = {c for c in _char_classes(text) if c not in ("upper", "lower", "alpha")}
            allowed = {c for c in self.classes if c not in ("upper", "lower", "alpha")}
            has_letters = bool(self.classes & {"upper", "lower", "alpha"})
            if not has_letters and any(c.isalpha() for c in text):
                return False
            return loose <= allowed
        return True


def profile_fields(
    truths: Iterable[Mapping[str, object]], fields: list[str], types: Mapping[str, str]
) -> dict[str, FieldProfile]:
    """One :class:`FieldProfile` per field from the labels of the labelled pages."""
    truths = list(truths)
    return {
        f: FieldProfile.learn(types.get(f, "text"), (t.get(f) for t in truths)) for f in fields
    }


def classify(got: Mapping[str, object] | None, error: str | None, fields: list[str],
             profiles: Mapping[str, FieldProfile]) -> dict[str, str]:
    """Per field one of ``ok``, ``empty``, ``shape``, ``crash`` for one page's extraction."""
    if error is not None or not isinstance(got, Mapping):
        return dict.fromkeys(fields, "crash")
    lowered = {str(k).lower(): v for k, v in got.items()}
    out = {}
    for f in fields:
        value = lowered.get(f.lower())
        if value is not None and not isinstance(value, str | int | float):
            out[f] = "shape"
        elif normalize_text(value) == "":
            out[f] = "empty"
        else:
            out[f] = "ok" if profiles[f].fits(value) else "shape"
    return out


def _binom_tail(k: int, n: int, p: float) -> float:
    """P[X >= k] for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    p = min(max(p, 1e-12), 1 - 1e-12)
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def field_health(ref: list[str], new: list[str], *, threshold: float = DEFAULT_THRESHOLD,
                 alpha: float = DEFAULT_ALPHA) -> dict:
    """Health statistics of one field from its per-page classes on reference and new pages."""
    n_ref, n_new = len(ref), len(new)
    bad_ref = sum(c != "ok" for c in ref)
    bad_new = sum(c != "ok" for c in new)
    health_ref = _pct(n_ref - bad_ref, n_ref)
    health_new = _pct(n_new - bad_new, n_new)
    drop = None
    p_value = None
    drifted = False
    if n_new and n_ref:
        drop = round(health_ref - health_new, 1)
        rate = (bad_ref + 1) / (n_ref + 2)
        p_value = _binom_tail(bad_new, n_new, rate)
        drifted = drop > threshold and p_value < alpha
    return {
        "pages": n_new,
        "reference_pages": n_ref,
        "health_ref": health_ref,
        "health": health_new,
        "drop": drop,
        "empty_ref": _pct(sum(c == "empty" for c in ref), n_ref),
        "empty": _pct(sum(c == "empty" for c in new), n_new),
        "shape_ref": _pct(sum(c == "shape" for c in ref), n_ref),
        "shape": _pct(sum(c == "shape" for c in new), n_new),
        "crash_ref": _pct(sum(c == "crash" for c in ref), n_ref),
        "crash": _pct(sum(c == "crash" for c in new), n_new),
        "p_value": None if p_value is None else float(f"{p_value:.3g}"),
        "drifted": drifted,
    }


def store_health(ref_classes: list[dict[str, str]], new_classes: list[dict[str, str]],
                 fields: list[str], *, threshold: float = DEFAULT_THRESHOLD,
                 alpha: float = DEFAULT_ALPHA) -> dict:
    """Per-field health and the store's verdict (``drifted`` when any field drifted)."""
    per_field = {
        f: field_health([c[f] for c in ref_classes], [c[f] for c in new_classes],
                        threshold=threshold, alpha=alpha)
        for f in fields
    }
    healths = [v["health"] for v in per_field.values() if v["health"] is not None]
    refs = [v["health_ref"] for v in per_field.values() if v["health_ref"] is not None]
    drops = [v["drop"] for v in per_field.values() if v["drop"] is not None]
    return {
        "fields": per_field,
        "health": min(healths) if healths else None,
        "health_ref": min(refs) if refs else None,
        "max_drop": max(drops) if drops else None,
        "drifted_fields": [f for f, v in per_field.items() if v["drifted"]],
        "drifted": any(v["drifted"] for v in per_field.values()),
    }
