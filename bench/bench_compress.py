"""Bench: page size in prompt tokens before and after ``autoheal.compress.compress_page``.

Run from the repository root::

    .venv/bin/python bench/bench_compress.py                 # shared data + demo data
    .venv/bin/python bench/bench_compress.py some.csv.gz ... # other CSVs (gzip or plain)

For every page of ``../shared/data/*.csv.gz`` (or ``$AUTOHEAL_DATA``) and ``store_data/Store_OCP_Data.csv`` (when
it exists) it compresses the page with ``keep`` = the surface forms of the page's labels that
are present in the raw page (``autoheal.scoring.is_present``), as the prompt builder does.  It
prints one table per file and one per store for the pages over 100 KB: estimated tokens
(``autoheal.compress.estimate_tokens``) of the raw page and of the view (median, ratio, max),
the share of present labels still present in the view (checked with ``is_present`` on the
view), the ratio of a "plain strip" baseline (scripts, styles, comments and all attributes
dropped, whitespace collapsed) and the compression time.  Goal for pages over 100 KB: ratio
<= 5 %, <= 8k tokens, every present label kept.  Prints only; asserts nothing.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import os
import re
import statistics
import sys
import time
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AUTOHEAL_DATA", ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(ROOT / "src"))

from autoheal.compress import compress_page, estimate_tokens  # noqa: E402
from autoheal.scoring import infer_type, is_present, surface_forms  # noqa: E402

BIG = 100_000


def read_rows(path: str) -> list[dict[str, str]]:
    csv.field_size_limit(10**9)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(io.StringIO(fh.read())))


def plain_strip(html: str) -> str:
    """The baseline: drop script/style/comments and every attribute, collapse whitespace."""
    try:
        parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, recover=True)
        root = etree.fromstring(html.encode("utf-8", "replace"), parser)
        if root is None:
            return html
        etree.strip_elements(root, "script", "style", with_tail=False)
        for el in root.iter():
            if isinstance(el.tag, str):
                el.attrib.clear()
        text = etree.tostring(root, encoding="unicode", method="html")
    except (etree.Error, ValueError):
        return html
    return re.sub(r"\s+", " ", text)


def measure(path: str) -> list[dict]:
    rows = read_rows(path)
    if not rows:
        return []
    fields = [k for k in rows[0] if k.startswith("GROUND_TRUTH_")]
    by_store: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_store.setdefault(row["STORE_ID"], []).append(row)
    types = {
        (store, f): infer_type(r[f] for r in store_rows)
        for store, store_rows in by_store.items()
        for f in fields
    }
    out = []
    for row in rows:
        html, store = row["RAW_DOM"], row["STORE_ID"]
        present, keep = [], []
        for f in fields:
            ftype = types[(store, f)]
            if row[f] and is_present(row[f], html, ftype):
                present.append((row[f], ftype))
                keep += surface_forms(row[f], ftype)
        start = time.perf_counter()
        view = compress_page(html, keep=keep)
        ms = (time.perf_counter() - start) * 1000
        raw = estimate_tokens(html)
        out.append(
            {
                "store": store,
                "bytes": len(html.encode("utf-8", "replace")),
                "raw": raw,
                "view": estimate_tokens(view),
                "strip": estimate_tokens(plain_strip(html)),
                "present": len(present),
                "kept": sum(is_present(v, view, t) for v, t in present),
                "ms": ms,
            }
        )
    return out


def summary(label: str, pages: list[dict]) -> list[str]:
    raw = [p["raw"] for p in pages]
    view = [p["view"] for p in pages]
    ratios = [p["view"] / max(1, p["raw"]) for p in pages]
    strip = [p["strip"] / max(1, p["raw"]) for p in pages]
    present = sum(p["present"] for p in pages)
    kept = sum(p["kept"] for p in pages)
    return [
        label,
        str(len(pages)),
        f"{statistics.median(raw):,.0f}",
        f"{statistics.median(view):,.0f}",
        f"{statistics.median(ratios):.1%}",
        f"{max(ratios):.1%}",
        f"{max(view):,}",
        f"{kept}/{present} ({kept / present:.0%})" if present else "-",
        f"{statistics.median(strip):.1%}",
        f"{statistics.median(p['ms'] for p in pages):.0f}/{max(p['ms'] for p in pages):.0f}",
    ]


HEADER = [
    "",
    "pages",
    "raw tok p50",
    "view tok p50",
    "ratio p50",
    "ratio max",
    "view tok max",
    "labels kept",
    "strip ratio p50",
    "ms p50/max",
]


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    line = lambda r: "| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(HEADER), sep, *(line(r) for r in rows)])


def main(paths: list[str]) -> None:
    if not paths:
        paths = sorted(glob.glob(str(SHARED / "*.csv.gz")))
        demo = ROOT / "store_data" / "Store_OCP_Data.csv"
        if demo.exists():
            paths.append(str(demo))
    all_big: list[dict] = []
    for path in paths:
        pages = measure(path)
        if not pages:
            print(f"\n## {path}: no rows")
            continue
        big = [p for p in pages if p["bytes"] > BIG]
        all_big += big
        print(f"\n## {Path(path).name}")
        rows = [summary("all pages", pages)]
        if big:
            rows.append(summary("pages > 100 KB", big))
        print(table(rows))
        if big:
            stores = sorted({p["store"] for p in big})
            print(f"\npages > 100 KB, per store ({Path(path).name})")
            print(table([summary(s, [p for p in big if p["store"] == s]) for s in stores]))
    if all_big:
        worst_ratio = max(p["view"] / p["raw"] for p in all_big)
        worst_tokens = max(p["view"] for p in all_big)
        lost = sum(p["present"] - p["kept"] for p in all_big)
        print(
            f"\nGoal on {len(all_big)} pages > 100 KB: ratio max {worst_ratio:.1%} (<= 5%), "
            f"view tokens max {worst_tokens:,} (<= 8,000), present labels lost {lost} (0)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
