"""Stage 7: run each store's selected script on new, unlabelled pages, and check its health.

The user points the config key ``apply_data`` at a CSV of new pages (``STORE_ID, RAW_DOM``;
``GROUND_TRUTH_*`` columns may be there and are ignored).  Like the training input it is
indexed once at parse time (:func:`apply_index`, cached on the file's identity, per-store
content hash and row spans), so a store's job reruns exactly when its new pages change (the
hash is a ``params:`` value) or its selection changes (``best.json`` is an input).

Per store, :func:`apply_store` runs the final script in the sandbox on the store's new pages and
on its labelled pages (the health reference, see :mod:`autoheal.health`), and returns the rows
of ``results/extracted/{store}.csv`` and the health document.  Stores that have no script
(skipped, no usable candidate) or that the training data never had are written too, with the
reason, so nothing is dropped silently.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from pathlib import Path

from .health import DEFAULT_ALPHA, DEFAULT_THRESHOLD, classify, profile_fields, store_health
from .io import atomic_write_text, read_json, slug
from .page import Page
from .samples import (
    REQUIRED,
    InputError,
    _data_rows,
    _Header,
    _page,
    _store_pages,
    cached_on_identity,
)

__all__ = [
    "apply_index",
    "load_new_pages",
    "apply_store",
    "extracted_csv",
    "collect_extracted",
    "summarize_health",
    "HEALTH_COLUMNS",
    "apply_to_store",
    "health_text",
]

APPLY_INDEX_VERSION = 1
BASE_COLUMNS = ["STORE_ID", "row", "page_id"]
TAIL_COLUMNS = ["status", "error", "script", "script_version", "model", "iteration", "latency_ms"]
HEALTH_COLUMNS = [
    "store_id", "slug", "status", "pages", "reference_pages", "health", "health_ref", "max_drop",
    "drifted_fields", "crash_pct", "script", "script_version", "reason", "next_step",
    "heal_command",
]  # fmt: skip


def _apply_header(path: Path, names: list[str]) -> _Header:
    names = [n.strip().lstrip("\ufeff") for n in names]
    for req in REQUIRED:
        if req not in names:
            raise InputError(
                f"{path}: missing required column {req!r} (config key 'apply_data'; "
                f"header: {', '.join(names)})"
            )
    return _Header(names=names, store_col=names.index("STORE_ID"),
                   dom_col=names.index("RAW_DOM"), fields=[], field_cols=[])


def apply_index(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> dict:
    """``{"header": [...], "stores": {store_id: {"slug", "rows", "sha256", "spans"}}}`` of the
    new pages, cached on the file's identity like :func:`autoheal.samples.store_index`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"config key 'apply_data': input file {str(path)!r} does not exist")
    return cached_on_identity(path, cache_dir, "apply", APPLY_INDEX_VERSION, lambda: _build(path))


def _build(path: Path) -> dict:
    stores: dict[str, dict] = {}
    hashers: dict[str, object] = {}
    header, rows = _data_rows(path, _apply_header, context="; config key 'apply_data'")
    for rownum, off, length, cells in rows:
        store, page = _page(header, rownum, cells, path)
        if store.strip() == "":
            raise InputError(f"{path}: row {rownum} has an empty STORE_ID (config key 'apply_data')")
        entry = stores.setdefault(store, {"slug": slug(store), "rows": 0, "spans": []})
        entry["rows"] += 1
        entry["spans"].append([off, length, rownum])
        hashers.setdefault(store, hashlib.sha256()).update(
            page.html.encode("utf-8", "surrogatepass") + b"\0"
        )
    for store, entry in stores.items():
        entry["sha256"] = hashers[store].hexdigest()
        if entry["slug"] == "all":
            raise InputError(
                f"{path}: STORE_ID {store!r} would overwrite results/extracted/all.csv; rename it"
            )
    return {"header": header.names, "stores": stores}


def load_new_pages(path: str | os.PathLike, store_id: str, index: dict) -> list[Page]:
    """The new pages of one store (reading only its rows), in file order, duplicates kept."""
    path = Path(path)
    header = _apply_header(path, index["header"])
    entry = index["stores"].get(store_id)
    if entry is None:
        return []
    return _store_pages(path, header, store_id, entry["spans"])


def _heal_hint(store_id: str, store_slug: str, data: str) -> tuple[str, str]:
    step = (f"label a few of the new pages of {store_id!r} (GROUND_TRUTH_<FIELD> cells) and "
            f"append them to {data}; then run the heal command")
    command = (f"snakemake -j 8 results/stores/{store_slug}/best.json "
               f"results/extracted/{store_slug}.csv results/health.tsv")
    return step, command


def _no_script_result(store_id: str, pages: list[Page], fields: list[str], status: str,
                      reason: str) -> tuple[list[dict], dict]:
    rows = [
        {"STORE_ID": store_id, "row": p.row, "page_id": p.page_id, **dict.fromkeys(fields),
         "status": status, "error": reason}
        for p in pages
    ]
    health = {"store_id": store_id, "slug": slug(store_id), "status": status, "reason": reason,
              "pages": len(pages), "fields": {}}
    return rows, health


def apply_store(
    store_id: str,
    pages: list[Page],
    best: dict | None,
    samples: dict | None,
    *,
    sandbox_options: dict | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = DEFAULT_ALPHA,
    data: str = "the training CSV",
) -> tuple[list[str], list[dict], dict]:
    """Run the store's final script on ``pages``; return (fields, extracted rows, health doc)."""
    if best is None:
        rows, health = _no_script_result(
            store_id, pages, [], "unknown_store",
            "not in the training data (config key 'data'): no script for this store")
        return [], rows, health
    fields = list(best["fields"])
    if not best.get("best"):
        reason = best.get("skipped") or f"no usable script (selection status {best['status']})"
        rows, health = _no_script_result(store_id, pages, fields, "no_script", reason)
        health["slug"] = best["slug"]
        return fields, rows, health

    from .sandbox import Sandbox

    choice = best["best"]
    script = Path(choice["final_script"])
    version = hashlib.sha256(script.read_bytes()).hexdigest()[:12]
    types = best["types"]
    labelled = [Page.from_json(p) for p in (samples or {}).get("train", []) + (samples or {}).get("test", [])]
    profiles = profile_fields((p.truth for p in labelled), fields, types)
    meta = {"script": str(script), "script_version": version, "model": choice["model"],
            "iteration": choice["iteration"]}
    rows, new_classes, ref_classes = [], [], []
    with Sandbox(script, **(sandbox_options or {})) as box:
        for page in labelled:
            res = box.extract(page.html)
            ref_classes.append(classify(res.value, res.error, fields, profiles))
        for page in pages:
            res = box.extract(page.html)
            new_classes.append(classify(res.value, res.error, fields, profiles))
            lowered = {str(k).lower(): v for k, v in (res.value or {}).items()} if isinstance(res.value, dict) else {}
            values = {}
            for f in fields:
                value = lowered.get(f.lower())
                values[f] = None if value is None else str(value)
            rows.append({
                "STORE_ID": store_id, "row": page.row, "page_id": page.page_id, **values,
                "status": "ok" if res.error is None else res.error_kind or "error",
                "error": res.error, **meta, "latency_ms": round(res.latency_ms, 3),
            })
    # Fields no labelled page has a value for are not expected from this store: not judged.
    judged = [f for f in fields if any(p.truth.get(f) for p in labelled)] or fields
    verdict = store_health(ref_classes, new_classes, judged, threshold=threshold, alpha=alpha)
    health = {
        "store_id": store_id, "slug": best["slug"],
        "status": "drifted" if verdict["drifted"] else "healthy",
        "reason": None, "pages": len(pages), "reference_pages": len(labelled),
        "selection_status": best["status"], **meta, **verdict,
        "crash_pct": round(100.0 * sum(r["status"] != "ok" for r in rows) / len(rows), 1) if rows else None,
    }
    if verdict["drifted"]:
        health["reason"] = "; ".join(_drift_reason(f, verdict["fields"][f]) for f in verdict["drifted_fields"])
        health["next_step"], health["heal_command"] = _heal_hint(store_id, best["slug"], data)
    return fields, rows, health


def _drift_reason(field: str, stats: dict) -> str:
    parts = []
    for key, word in (("crash", "crashed"), ("empty", "empty"), ("shape", "misshapen")):
        if (stats[key] or 0) > (stats[f"{key}_ref"] or 0):
            parts.append(f"{word} {stats[key]:g}% (was {stats[f'{key}_ref'] or 0:g}%)")
    return f"{field}: health {stats['health']:g}% (was {stats['health_ref']:g}%), " + ", ".join(parts)


def _csv_text(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    return buf.getvalue()


def extracted_csv(rows: list[dict], fields: list[str]) -> str:
    """The CSV text of one store's extracted values."""
    return _csv_text(rows, BASE_COLUMNS + fields + TAIL_COLUMNS)


def collect_extracted(paths: list[str | os.PathLike], out: str | os.PathLike) -> int:
    """Concatenate per-store extracted CSVs (fields: the union, in first-seen order)."""
    rows, fields = [], []
    for path in paths:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            names = reader.fieldnames or []
            for name in names[len(BASE_COLUMNS): len(names) - len(TAIL_COLUMNS)]:
                if name not in fields:
                    fields.append(name)
            rows.extend(reader)
    atomic_write_text(out, _csv_text(rows, BASE_COLUMNS + fields + TAIL_COLUMNS))
    return len(rows)


def summarize_health(paths: list[str | os.PathLike], out: str | os.PathLike,
                     trained: list[dict] | None = None) -> list[dict]:
    """``results/health.tsv``: one row per store of the new pages, plus every trained store
    without new pages (``no_new_pages``); drifted stores first."""
    docs = [read_json(p) for p in paths]
    seen = {d["store_id"] for d in docs}
    for entry in trained or []:
        if entry["store_id"] not in seen:
            docs.append({"store_id": entry["store_id"], "slug": entry["slug"],
                         "status": "no_new_pages", "pages": 0,
                         "reason": "no page of this store in apply_data"})
    order = {"drifted": 0, "unknown_store": 1, "no_script": 2, "healthy": 3, "no_new_pages": 4}
    docs.sort(key=lambda d: (order.get(d["status"], 9), d["store_id"]))
    fields: list[str] = []
    for d in docs:
        fields += [f for f in d.get("fields") or {} if f not in fields]
    at = HEALTH_COLUMNS.index("drifted_fields")
    columns = HEALTH_COLUMNS[:at] + [f"{f}_health" for f in fields] + HEALTH_COLUMNS[at:]
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=columns, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    for d in docs:
        row = {c: d.get(c) for c in HEALTH_COLUMNS}
        row["drifted_fields"] = ",".join(d.get("drifted_fields") or [])
        for f in fields:
            row[f"{f}_health"] = ((d.get("fields") or {}).get(f) or {}).get("health")
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    atomic_write_text(out, buf.getvalue())
    return health_text(docs)


def health_text(docs: list[dict]) -> str:
    """The console summary of the health check: one line per store, then what to do."""
    lines = ["HEALTH OF THE SELECTED SCRIPTS ON NEW PAGES (health = % of pages with every value "
             "present and well-shaped, worst field; ref = on the labelled pages)"]
    width = max([len(str(d["store_id"])) for d in docs] + [5])
    for d in docs:
        health = "-" if d.get("health") is None else f"{d['health']:g}%"
        ref = "-" if d.get("health_ref") is None else f"{d['health_ref']:g}%"
        lines.append(f"  {str(d['store_id']):<{width}}  {d['status']:<13} pages {d.get('pages', 0):>4}"
                     f"  health {health:>6}  ref {ref:>6}  {d.get('reason') or ''}")
    drifted = [d for d in docs if d["status"] == "drifted"]
    if drifted:
        lines += ["", "Drifted stores: " + drifted[0]["next_step"].split(";")[0].replace(
            repr(drifted[0]["store_id"]), "each store") + ", then:"]
        lines += [f"  {d['heal_command']}" for d in drifted]
    return "\n".join(lines) + "\n"


def apply_to_store(
    data: str | os.PathLike,
    store_id: str,
    *,
    best_path: str | os.PathLike | None,
    samples_path: str | os.PathLike | None,
    cache_dir: str | os.PathLike | None = None,
    sandbox_options: dict | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    training_data: str = "the training CSV",
) -> tuple[str, dict]:
    """One ``apply_script`` job: (the store's extracted CSV text, its health document)."""
    index = apply_index(data, cache_dir)
    pages = load_new_pages(data, store_id, index)
    best = read_json(best_path) if best_path else None
    samples = read_json(samples_path) if samples_path else None
    fields, rows, health = apply_store(
        store_id, pages, best, samples, sandbox_options=sandbox_options, threshold=threshold,
        data=training_data,
    )
    return extracted_csv(rows, fields), health
