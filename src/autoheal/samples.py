"""Stage 1: the input CSV becomes per-store samples (train/test split, label presence).

Shaped by two constraints:

* **Parse-time cost.** The Snakefile needs the store list and a per-store content hash (so a
  store reruns exactly when its rows change).  Every Snakemake invocation, and every cluster job,
  re-parses the Snakefile, so :func:`store_index` streams the CSV once and caches the result on
  the file's identity (absolute path, size, mtime_ns).  The index also records each row's byte
  span, so a per-store job reads only its own rows instead of the whole file.
* **A content-stable split.** A page's side is decided by the hash of its own HTML, never by
  its position or by the other pages: appending rows or editing other stores never moves a
  page across the split, and the same page can never be on both sides (duplicates of a page
  within a store are counted once).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .io import atomic_write_json, slug
from .page import Page
from .scoring import infer_type, is_present, page_text

__all__ = [
    "InputError",
    "TRUTH_PREFIX",
    "read_stores",
    "load_store",
    "store_index",
    "split_pages",
    "dedupe_pages",
    "field_types",
    "presence",
    "build_samples",
    "skip_reason",
    "select_stores",
    "index_warnings",
]

TRUTH_PREFIX = "GROUND_TRUTH_"
REQUIRED = ("STORE_ID", "RAW_DOM")
INDEX_VERSION = 3

csv.field_size_limit(2**31 - 1)


class InputError(ValueError):
    """A problem with the input data, phrased for the user (names the file, row, store or field)."""


@dataclass(frozen=True)
class _Header:
    names: list[str]
    store_col: int
    dom_col: int
    fields: list[str]
    field_cols: list[int]


def _header(path: Path, names: list[str]) -> _Header:
    names = [n.strip().lstrip("\ufeff") for n in names]
    if any("\x00" in n for n in names) or not any(names):
        raise InputError(f"{path}: not a CSV file (the first line is not a header row)")
    seen = set()
    for name in names:
        if name in seen:
            raise InputError(f"{path}: duplicate column name {name!r} in the header")
        seen.add(name)
    for req in REQUIRED:
        if req not in names:
            raise InputError(f"{path}: missing required column {req!r} (header: {', '.join(names)})")
    fields = [n[len(TRUTH_PREFIX) :] for n in names if n.startswith(TRUTH_PREFIX)]
    if not fields or any(not f for f in fields):
        raise InputError(f"{path}: no {TRUTH_PREFIX}<FIELD> column in the header")
    return _Header(
        names=names,
        store_col=names.index("STORE_ID"),
        dom_col=names.index("RAW_DOM"),
        fields=fields,
        field_cols=[names.index(TRUTH_PREFIX + f) for f in fields],
    )


def _open_binary(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


def _decode(raw: bytes) -> tuple[str, bool]:
    """UTF-8, or (for exports from spreadsheet tools) cp1252/latin-1 with a flag."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252"), True
        except UnicodeDecodeError:
            return raw.decode("latin-1"), True


def _records(path: Path, recoded: list[int] | None = None) -> Iterator[tuple[int, int, int, list[str]]]:
    """Yield (data_row_number, byte_offset, byte_length, cells); offsets index the raw file.

    Rows that are not valid UTF-8 are decoded as cp1252 (latin-1 as a last resort) and their
    numbers appended to ``recoded``.
    """
    with _open_binary(path) as handle:
        pos = 0
        first = True
        bad = False

        def lines():
            nonlocal pos, first, bad
            for raw in handle:
                if first and raw.startswith(b"\xef\xbb\xbf"):
                    pos += 3
                    raw = raw[3:]
                first = False
                pos += len(raw)
                text, flagged = _decode(raw)
                bad = bad or flagged
                yield text

        reader = csv.reader(lines())
        start = pos
        rownum = -1  # the header is row 0
        try:
            for cells in reader:
                end = pos
                rownum += 1
                if bad and recoded is not None:
                    recoded.append(rownum)
                bad = False
                yield rownum, start, end - start, cells
                start = pos
        except csv.Error as exc:
            raise InputError(f"{path}: not a readable CSV near row {rownum + 1}: {exc}") from None


def _page(header: _Header, rownum: int, cells: list[str], path: Path) -> tuple[str, Page]:
    if len(cells) != len(header.names):
        raise InputError(
            f"{path}: row {rownum} has {len(cells)} cells, the header has {len(header.names)}"
        )
    store = cells[header.store_col]
    html = cells[header.dom_col]
    truth = {}
    for field, col in zip(header.fields, header.field_cols, strict=True):
        value = cells[col].strip()
        truth[field] = value if value != "" else None
    page_id = hashlib.sha256(html.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return store, Page(page_id=page_id, html=html, truth=truth, row=rownum)


def _data_rows(path: Path, make_header, recoded: list[int] | None = None, *, context: str = ""):
    """The header (parsed by ``make_header``) and an iterator over the non-blank data rows
    ``(rownum, offset, length, cells)``; ``context`` is added to the empty-file message."""
    records = _records(path, recoded)
    first = next(records, None)
    if first is None:
        raise InputError(f"{path}: the file is empty (no header row{context})")
    if recoded:
        raise InputError(f"{path}: not a CSV file (the first line is not UTF-8 text)")
    header = make_header(path, first[3])
    return header, (row for row in records if any(c.strip() for c in row[3]))


def _store_pages(path: Path, header: _Header, store_id: str, spans: list | None) -> list[Page]:
    """One store's pages in file order: read at their byte spans, or by a full scan (gzip)."""
    pages = []
    if spans is None or path.suffix == ".gz":
        _, rows = _data_rows(path, lambda _path, _names: header)
        for rownum, _off, _len, cells in rows:
            store, page = _page(header, rownum, cells, path)
            if store == store_id:
                pages.append(page)
        return pages
    with open(path, "rb") as handle:
        for off, length, rownum in spans:
            handle.seek(off)
            chunk, _ = _decode(handle.read(length))  # same decoding as the index scan
            cells = next(csv.reader(io.StringIO(chunk, newline="")))
            store, page = _page(header, rownum, cells, path)
            if store != store_id:
                raise InputError(f"{path} changed while reading (store {store_id!r}); rerun")
            pages.append(page)
    return pages


def read_stores(path: str | os.PathLike) -> dict[str, list[Page]]:
    """All pages of the CSV grouped by STORE_ID, in file order (duplicates kept)."""
    path = Path(path)
    stores: dict[str, list[Page]] = {}
    header, rows = _data_rows(path, _header)
    for rownum, _off, _len, cells in rows:
        store, page = _page(header, rownum, cells, path)
        stores.setdefault(store, []).append(page)
    return stores


def cached_on_identity(
    path: Path, cache_dir: str | os.PathLike | None, kind: str, version: int, build
) -> dict:
    """``build()``'s index of ``path``, cached under ``{cache_dir}/index`` on the file's identity
    (absolute path, size, mtime_ns): every later Snakemake invocation and cluster job that
    re-parses the Snakefile gets it for a stat and a JSON load."""
    stat = path.stat()
    ident = {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    cache_file = None
    if cache_dir:
        key = hashlib.sha256(ident["path"].encode()).hexdigest()[:16]
        cache_file = Path(cache_dir) / "index" / f"{kind}-{key}.json"
        try:
            cached = json.loads(cache_file.read_text())
            if cached.get("ident") == ident and cached.get("version") == version:
                return cached
        except (OSError, ValueError):
            pass
    index = {"version": version, "ident": ident, **build()}
    if cache_file:
        atomic_write_json(cache_file, index)
    return index


def store_index(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> dict:
    """Store list, per-store content hash and row spans; cached on the file's identity.

    Returns ``{"fields": [...], "stores": {store_id: {"slug", "rows", "pages", "sha256",
    "spans": [[offset, length, row], ...]}}}``.  ``pages`` counts distinct pages (by HTML).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"input file {path} does not exist (config key 'data')")
    return cached_on_identity(path, cache_dir, "store", INDEX_VERSION, lambda: _build_index(path))


def _build_index(path: Path) -> dict:
    stores: dict[str, dict] = {}
    hashers: dict[str, object] = {}
    distinct: dict[str, set] = {}
    recoded: list[int] = []
    header, rows = _data_rows(path, _header, recoded)
    for rownum, off, length, cells in rows:
        if len(cells) != len(header.names):
            _page(header, rownum, cells, path)  # raises the error that names the row
        store, html = cells[header.store_col], cells[header.dom_col]
        entry = stores.setdefault(store, {"slug": slug(store), "rows": 0, "labels": 0, "spans": []})
        entry["rows"] += 1
        entry["labels"] += sum(1 for col in header.field_cols if cells[col].strip())
        entry["spans"].append([off, length, rownum])
        # The store's content hash covers every cell of its rows, in order (cheap: no JSON).
        row = "\x1e".join(cells).encode("utf-8", "surrogatepass")
        hasher = hashers.setdefault(store, hashlib.sha256())
        hasher.update(len(row).to_bytes(8, "big") + row)
        if html.strip():
            distinct.setdefault(store, set()).add(hash(html))  # counting only, in this process
    if not stores:
        raise InputError(f"{path}: the header is there but there are no data rows")
    _check_slugs(path, stores)
    for store, entry in stores.items():
        entry["sha256"] = hashers[store].hexdigest()
        entry["pages"] = len(distinct.get(store, ()))
    return {
        "fields": header.fields,
        "header": header.names,
        "stores": stores,
        "recoded_rows": recoded,
        "extra_columns": [
            n for n in header.names if n not in REQUIRED and not n.startswith(TRUTH_PREFIX)
        ],
    }


def _check_slugs(path: Path, stores: dict[str, dict]) -> None:
    by_slug: dict[str, str] = {}
    for store, entry in stores.items():
        other = by_slug.setdefault(entry["slug"].lower(), store)
        if other != store:  # cannot happen with the hashed slug; kept as a guard
            raise InputError(f"{path}: stores {other!r} and {store!r} map to the same path")


def load_store(path: str | os.PathLike, store_id: str, index: dict | None = None) -> list[Page]:
    """The pages of one store, reading only its rows when the index has their byte spans."""
    path = Path(path)
    if index is None:
        return read_stores(path).get(store_id, [])
    entry = index["stores"].get(store_id)
    if entry is None:
        return []
    return _store_pages(path, _header(path, index["header"]), store_id, entry["spans"])


def dedupe_pages(pages: list[Page]) -> tuple[list[Page], list[dict]]:
    """Distinct pages (first occurrence wins) and a report of the dropped duplicates."""
    kept: dict[str, Page] = {}
    dropped = []
    for page in pages:
        first = kept.get(page.page_id)
        if first is None:
            kept[page.page_id] = page
            continue
        dropped.append(
            {
                "row": page.row,
                "duplicate_of_row": first.row,
                "conflicting_labels": page.truth != first.truth,
            }
        )
    return list(kept.values()), dropped


def _unit(page_id: str) -> float:
    digest = hashlib.sha256(("split:" + page_id).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_pages(pages: list[Page], test_fraction: float = 0.5) -> tuple[list[Page], list[Page]]:
    """Content-stable split: a page is in test when the hash of its HTML falls below
    ``test_fraction``.  With two or more pages both sides are non-empty (the page nearest the
    threshold moves).  Duplicated pages are dropped first, so no page is on both sides."""
    pages, _ = dedupe_pages(pages)
    ranked = sorted(pages, key=lambda p: (_unit(p.page_id), p.page_id))
    test = [p for p in ranked if _unit(p.page_id) < test_fraction]
    train = [p for p in ranked if _unit(p.page_id) >= test_fraction]
    if len(ranked) >= 2 and not train:
        train, test = [test[-1]], test[:-1]
    elif len(ranked) >= 2 and not test:
        train, test = train[1:], [train[0]]
    by_row = lambda p: p.row  # noqa: E731 - keep file order inside each side
    return sorted(train, key=by_row), sorted(test, key=by_row)


def field_types(pages: list[Page], fields: list[str], configured: dict | None = None) -> dict[str, str]:
    """Per-field type: configured in ``fields:`` or inferred from the store's labels."""
    configured = configured or {}
    return {
        f: configured.get(f) or infer_type(p.truth.get(f) for p in pages) for f in fields
    }


def presence(pages: list[Page], fields: list[str], types: dict[str, str]) -> dict[str, dict]:
    """For each field: how many pages have a label, and how many of those labels occur in the page."""
    out = {f: {"labelled": 0, "present": 0} for f in fields}
    for page in pages:
        text = page_text(page.html)
        for f in fields:
            value = page.truth.get(f)
            if value is None:
                continue
            out[f]["labelled"] += 1
            if is_present(value, page.html, types[f], _text=text):
                out[f]["present"] += 1
    for stats in out.values():
        stats["pct"] = round(100.0 * stats["present"] / stats["labelled"], 1) if stats["labelled"] else None
    return out


def build_samples(
    pages: list[Page],
    *,
    store_id: str,
    fields: list[str],
    test_fraction: float,
    min_samples: int,
    configured_types: dict | None = None,
) -> dict:
    """The per-store samples document (``samples.json``, written by the ``heal_store`` job)."""
    empty = [{"row": p.row, "reason": "empty RAW_DOM"} for p in pages if not p.html.strip()]
    distinct, duplicates = dedupe_pages([p for p in pages if p.html.strip()])
    doc = {
        "store_id": store_id,
        "slug": slug(store_id),
        "fields": fields,
        "rows": len(pages),
        "samples": len(distinct),
        "duplicates": duplicates,
        "dropped": empty,
        "skipped": None,
        "types": {},
        "train": [],
        "test": [],
        "presence": {},
    }
    labels = sum(v is not None for p in distinct for v in p.truth.values())
    doc["skipped"] = skip_reason({"pages": len(distinct), "labels": labels}, min_samples, store_id)
    if doc["skipped"]:
        return doc
    types = field_types(distinct, fields, configured_types)
    train, test = split_pages(distinct, test_fraction)
    doc.update(
        types=types,
        train=[p.to_json() for p in train],
        test=[p.to_json() for p in test],
        presence={"train": presence(train, fields, types), "test": presence(test, fields, types)},
    )
    return doc


def skip_reason(entry: dict, min_samples: int, store_id: str | None = None) -> str | None:
    """Why a store (an index entry) is skipped, or None.  Decided at parse time."""
    if store_id is not None and store_id.strip() == "":
        return "empty STORE_ID (fill in the column for these rows)"
    if entry["pages"] < min_samples:
        return f"{entry['pages']} distinct page(s) < min_samples_per_store={min_samples}"
    if entry.get("labels", 1) == 0:
        return "no page of this store has any ground-truth label"
    return None


def select_stores(index: dict, subset: list[str] | None = None) -> dict[str, dict]:
    """``{slug: entry + store_id}`` for the configured subset (all stores when empty)."""
    stores = index["stores"]
    wanted = list(subset) if subset else list(stores)
    unknown = [s for s in wanted if s not in stores]
    if unknown:
        raise InputError(
            f"config key 'stores': {', '.join(map(repr, unknown))} not found in the input's STORE_ID column"
        )
    return {stores[s]["slug"]: {**stores[s], "store_id": s} for s in wanted}


def index_warnings(index: dict) -> list[str]:
    """One-line warnings about the input that do not stop the run (printed once per run)."""
    path = index["ident"]["path"]
    out = []
    if index.get("extra_columns"):
        cols = ", ".join(index["extra_columns"])
        out.append(f"{path}: ignoring unknown column(s) {cols} (never sent to models)")
    if index.get("recoded_rows"):
        rows = index["recoded_rows"]
        shown = ", ".join(map(str, rows[:20])) + (" ..." if len(rows) > 20 else "")
        out.append(f"{path}: row(s) {shown} are not valid UTF-8; decoded as cp1252/latin-1")
    empty = [s for s in index["stores"] if s.strip() == ""]
    if empty:
        out.append(f"{path}: {index['stores'][empty[0]]['rows']} row(s) have an empty STORE_ID (skipped)")
    return out
