"""Typed comparison of extracted values against ground truth.

Labels and pages disagree on surface form all the time: a label says ``1234.50`` while the
page shows ``$1,234.50`` or ``1.234,50 €``; a date label is ISO while the page says
``December 21, 2018``.  Scoring therefore compares *meanings* per field type:

* ``money`` and ``number`` compare the parsed decimal amount (currency symbols ignored);
* ``date`` compares the parsed calendar day (ISO, English and German month names, d.m.y);
* ``id`` and ``text`` compare after HTML-entity and whitespace normalisation.

A page whose ground truth is empty expects *no* value: returning one is wrong.

The same module produces the *surface forms* of a label (how it may be written on a page),
used to report whether a label is present in its page at all and by the synthesizer to find
candidate nodes.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

__all__ = [
    "FIELD_TYPES",
    "normalize_text",
    "parse_money",
    "parse_date",
    "infer_type",
    "values_match",
    "score_page",
    "surface_forms",
    "is_present",
    "page_text",
]

FIELD_TYPES = ("money", "number", "date", "id", "text")

_WS = re.compile(r"\s+")
_MONEY_CHARS = re.compile(r"[^\d,.\-]")
_NUM_TOKEN = re.compile(r"-?\d[\d.,\s\u00a0\u202f']*\d|-?\d")
_CURRENCY = re.compile(
    r"^\s*(?:[A-Z]{3}|[A-Z]{1,2}\$|[$€£¥₹₩₽¢]|Fr\.|kr\.?|zł|R\$)?\s*"
    r"-?\d[\d.,\s\u00a0\u202f']*\s*(?:[A-Z]{3}|[$€£¥₹₩₽¢]|kr\.?|zł|Kč|Ft)?\s*$"
)


def normalize_text(value: object) -> str:
    """Unescape entities, NFKC-normalise, collapse whitespace, strip."""
    if value is None:
        return ""
    text = html.unescape(str(value))
    text = unicodedata.normalize("NFKC", text)
    return _WS.sub(" ", text).strip()


def parse_money(value: object) -> Decimal | None:
    """The amount in a money string, or None.

    ``$1,234.50`` -> 1234.50, ``1.234,50 €`` -> 1234.50, ``EUR 23,96`` -> 23.96.
    A lone separator followed by exactly three digits is a thousands separator
    (``1,234`` -> 1234); followed by one or two digits it is the decimal mark.
    """
    text = normalize_text(value)
    if not text or not _CURRENCY.match(text):
        return None
    match = _NUM_TOKEN.search(text)
    if not match:
        return None
    token = re.sub(r"[\s\u00a0\u202f']", "", match.group(0))
    negative = token.startswith("-") or text.startswith("-") or text.startswith("(")
    token = token.lstrip("-")
    last_dot, last_comma = token.rfind("."), token.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        dec = "." if last_dot > last_comma else ","
        thousands = "," if dec == "." else "."
        token = token.replace(thousands, "").replace(dec, ".")
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        parts = token.split(sep)
        if len(parts) == 2 and len(parts[1]) != 3:
            token = parts[0] + "." + parts[1]
        elif len(parts) > 2 and all(len(p) == 3 for p in parts[1:]):
            token = "".join(parts)
        elif len(parts) == 2:
            token = "".join(parts)  # 1,234 or 1.234: thousands
        else:
            return None
    try:
        amount = Decimal(token)
    except InvalidOperation:
        return None
    return -amount if negative else amount


_MONTHS = {
    # English
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    # German
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "maerz": 3, "mai": 5, "juni": 6,
    "juli": 7, "oktober": 10, "dezember": 12,
    # French / Spanish / Dutch (common)
    "janvier": 1, "février": 2, "mars": 3, "avril": 4, "juin": 6, "juillet": 7, "août": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12,
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    "januari": 1, "februari": 2, "maart": 3, "mei": 5, "augustus": 8,
}
_MONTH_ABBR = {name[:3]: num for name, num in _MONTHS.items() if len(name) >= 3}
_MONTH_RE = r"([A-Za-zäéèûÄ]{3,})\.?"


def _month(word: str) -> int | None:
    word = word.lower().rstrip(".")
    return _MONTHS.get(word) or _MONTH_ABBR.get(word[:3])


def _mkdate(y: int, m: int, d: int) -> _dt.date | None:
    if y < 100:
        y += 2000
    try:
        return _dt.date(y, m, d)
    except ValueError:
        return None


def parse_date(value: object) -> _dt.date | None:
    """A calendar day from common written forms, or None."""
    text = normalize_text(value)
    if not text:
        return None
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?", text)
    if m:
        return _mkdate(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{2,4})", text)
    if m:
        return _mkdate(int(m[3]), int(m[2]), int(m[1]))
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if m:  # US order: m/d/y unless the first part cannot be a month
        a, b = int(m[1]), int(m[2])
        return _mkdate(int(m[3]), a, b) if a <= 12 else _mkdate(int(m[3]), b, a)
    m = re.fullmatch(r"(?:[A-Za-z]+,?\s+)?" + _MONTH_RE + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", text)
    if m and _month(m[1]):
        return _mkdate(int(m[3]), _month(m[1]), int(m[2]))
    m = re.fullmatch(r"(?:[A-Za-z]+,?\s+)?(\d{1,2})\.?\s+(?:de\s+)?" + _MONTH_RE + r"\s+(?:de\s+)?(\d{4})", text)
    if m and _month(m[2]):
        return _mkdate(int(m[3]), _month(m[2]), int(m[1]))
    return None


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def infer_type(values: Iterable[object]) -> str:
    """The field type that fits every non-empty label (``text`` when in doubt)."""
    seen = [normalize_text(v) for v in values]
    seen = [v for v in seen if v]
    if not seen:
        return "text"
    if all(_ISO_DATE.fullmatch(v) and parse_date(v) for v in seen):
        return "date"
    if all(parse_money(v) is not None for v in seen):
        has_money_marks = any(re.search(r"[^\d\s]", v) for v in seen)
        all_int = all(re.fullmatch(r"-?\d+", v) for v in seen)
        if all_int:
            return "id"  # order numbers like 6542 are ids, not amounts
        return "money" if has_money_marks else "number"
    return "id" if all(" " not in v and len(v) <= 64 for v in seen) else "text"


def _canon(value: object, ftype: str) -> object:
    text = normalize_text(value)
    if not text:
        return None
    if ftype in ("money", "number"):
        amount = parse_money(text)
        return amount if amount is not None else ("raw", text)
    if ftype == "date":
        day = parse_date(text)
        return day if day is not None else ("raw", text)
    return text


def values_match(expected: object, got: object, ftype: str = "text") -> bool:
    """True when ``got`` means the same as ``expected`` for a field of type ``ftype``.

    Empty expected (None or blank) matches only an empty ``got``.
    """
    if got is not None and not isinstance(got, str | int | float):
        return False
    return _canon(expected, ftype) == _canon(got, ftype)


def score_page(
    truth: Mapping[str, object], got: Mapping[str, object] | None, types: Mapping[str, str]
) -> dict[str, bool]:
    """Per-field correctness of one page's extraction (keys matched case-insensitively)."""
    lowered = {}
    if isinstance(got, Mapping):
        lowered = {str(k).lower(): v for k, v in got.items()}
    return {
        field: values_match(expected, lowered.get(field.lower()), types.get(field, "text"))
        for field, expected in truth.items()
    }


def _money_forms(amount: Decimal) -> list[str]:
    q = amount.quantize(Decimal("0.01"))
    sign = "-" if q < 0 else ""
    whole, frac = f"{abs(q):.2f}".split(".")
    grouped = f"{int(whole):,}"
    forms = [
        f"{sign}{whole}.{frac}",
        f"{sign}{grouped}.{frac}",
        f"{sign}{whole},{frac}",
        f"{sign}{grouped.replace(',', '.')},{frac}",
        f"{sign}{grouped.replace(',', ' ')},{frac}",
        f"{sign}{grouped.replace(',', chr(0xA0))},{frac}",
    ]
    if frac == "00":
        forms += [f"{sign}{whole}", f"{sign}{grouped}"]
    return list(dict.fromkeys(forms))


_EN_MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
]
_DE_MONTHS = [
    "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
    "September", "Oktober", "November", "Dezember",
]


def _date_forms(day: _dt.date) -> list[str]:
    en, de = _EN_MONTHS[day.month - 1], _DE_MONTHS[day.month - 1]
    return [
        day.isoformat(),
        f"{en} {day.day}, {day.year}",
        f"{en[:3]} {day.day}, {day.year}",
        f"{day.day} {en} {day.year}",
        f"{day.day} {en[:3]} {day.year}",
        f"{day.day}. {de} {day.year}",
        f"{day.day:02d}.{day.month:02d}.{day.year}",
        f"{day.day}.{day.month}.{day.year}",
        f"{day.month:02d}/{day.day:02d}/{day.year}",
        f"{day.month}/{day.day}/{day.year}",
        f"{day.day:02d}/{day.month:02d}/{day.year}",
    ]


def surface_forms(value: object, ftype: str = "text") -> list[str]:
    """Ways a label may be written in a page, the label itself first."""
    text = normalize_text(value)
    if not text:
        return []
    forms = [text]
    if ftype in ("money", "number"):
        amount = parse_money(text)
        if amount is not None:
            forms += _money_forms(amount)
    elif ftype == "date":
        day = parse_date(text)
        if day is not None:
            forms += _date_forms(day)
    return list(dict.fromkeys(forms))


_TAG = re.compile(r"<[^>]*>")
_SCRIPT_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)


def page_text(raw_html: str) -> str:
    """Visible-ish text of a page: tags removed, entities unescaped, whitespace collapsed."""
    text = _TAG.sub(" ", _SCRIPT_STYLE.sub(" ", raw_html))
    return normalize_text(text)


def is_present(value: object, raw_html: str, ftype: str = "text", *, _text: str | None = None) -> bool:
    """Whether a label occurs in its page at all (markup or text, case-insensitive)."""
    forms = [f.lower() for f in surface_forms(value, ftype)]
    if not forms:
        return False
    markup = normalize_text(raw_html).lower()
    text = (_text if _text is not None else page_text(raw_html)).lower()
    return any(f in markup or f in text for f in forms)
