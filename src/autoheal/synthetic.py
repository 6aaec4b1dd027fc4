"""Deterministic large synthetic inputs for the scale benchmarks (never committed).

``python -m autoheal.synthetic --stores 1000 --pages 10 --out /tmp/large.csv`` writes N stores
x M pages in the demo's CSV format.  Each synthetic store reuses one of the demo's template
families (:data:`autoheal.demo.STORES`, the one-page store excluded) under its own STORE_ID,
so its pages have the demo's realistic shape and size (boilerplate head, stylesheet, menus,
footer, scripts: 10-200 KB, ~40 KB on average) and its own theme (class names, palette, ids
are seeded by the STORE_ID).  Store ``i`` uses family ``i % 9``; ids are ``s{i:06d}_{family}``,
all path-safe, so the slug equals the id.  No deliberate label errors are planted.

Deterministic: the same (stores, pages, seed) give the same bytes; store ``i``'s rows
depend only on ``i``, the seed and the page count, so a larger file starts with the smaller
one's stores.  Rows are streamed, so memory stays flat whatever the size.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from . import demo

__all__ = ["FAMILIES", "store_ids", "generate_rows", "write_csv", "main"]

FAMILIES = tuple(spec for spec in demo.STORES if spec.pages > 1)


def _family_name(spec: demo.StoreSpec) -> str:
    return re.sub(r"[^a-z0-9]+", "_", spec.store_id.lower()).strip("_")


def store_ids(stores: int) -> list[str]:
    """The STORE_IDs of a synthetic file with ``stores`` stores, in file order."""
    return [f"s{i:06d}_{_family_name(FAMILIES[i % len(FAMILIES)])}" for i in range(stores)]


def generate_rows(
    stores: int, pages: int, seed: int = demo.DEFAULT_SEED
) -> Iterator[tuple[str, ...]]:
    """Data rows (in :data:`autoheal.demo.COLUMNS` order), store after store."""
    for i, store_id in enumerate(store_ids(stores)):
        base = FAMILIES[i % len(FAMILIES)]
        spec = replace(base, store_id=store_id, pages=pages, label_error_page=None)
        yield from demo._store_rows(spec, seed)


def write_csv(
    path: str | os.PathLike,
    stores: int,
    pages: int,
    seed: int = demo.DEFAULT_SEED,
) -> int:
    """Stream the CSV to ``path`` (atomically: a temporary file, then rename); returns bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(demo.COLUMNS)
        writer.writerows(generate_rows(stores, pages, seed))
    os.replace(tmp, path)
    return path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="autoheal synthetic",
        description="Write a deterministic synthetic CSV of N stores x M pages (for benchmarks).",
    )
    parser.add_argument("--stores", type=int, required=True, help="number of stores")
    parser.add_argument("--pages", type=int, default=10, help="pages per store (default 10)")
    parser.add_argument("--out", required=True, help="output CSV path")
    parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    size = write_csv(args.out, args.stores, args.pages, args.seed)
    print(
        f"wrote {args.stores} stores x {args.pages} pages to {args.out} ({size:,} bytes, "
        f"seed {args.seed}) in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
