"""The naive baseline: what a quick regex script gets, so users see what healing gained.

It is the original tool's ``bad_script.py`` generalised to any field: for each field it looks
for the field's name in the page text ("order id", "subtotal", ...) and takes the next token
(a money amount for money-looking names, a word otherwise).  It is scored for every store as
model ``baseline`` and is never selected as a store's final script.
"""

from __future__ import annotations

__all__ = ["baseline_script"]

_TEMPLATE = '''"""Naive baseline extractor (autoheal): the first token after each field's name."""
import json
import re
import sys

FIELDS = {fields!r}
MONEY = re.compile(r"[-+]?[$€£¥]?\\s?\\d[\\d.,]*\\d(?:\\s?(?:€|EUR|USD|GBP))?")


def _text(html):
    html = re.sub(r"(?is)<(script|style)\\b.*?</\\1>", " ", html)
    return re.sub(r"\\s+", " ", re.sub(r"<[^>]+>", " ", html))


def extract(html):
    text = _text(html)
    out = {}
    for field in FIELDS:
        words = [w for w in field.lower().split("_") if w not in ("id",)]
        label = r"\\W*".join(re.escape(w) for w in words) or re.escape(field.lower())
        if any(w in ("total", "subtotal", "price", "amount", "tax", "shipping") for w in words):
            pattern = label + r"[^\\d$€£¥]{0,20}(" + MONEY.pattern + ")"
        else:
            pattern = label + r"\\W{0,3}(?:id|number|no\\.?|#)?\\W{0,3}([\\w-]{2,})"
        match = re.search(pattern, text, re.I)
        out[field] = match.group(1).strip() if match else None
    return out


if __name__ == "__main__":
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as handle:
            print(json.dumps(extract(handle.read())))
'''


def baseline_script(fields: list[str]) -> str:
    """The baseline script for a store with these fields."""
    return _TEMPLATE.replace("{fields!r}", repr(list(fields)))
