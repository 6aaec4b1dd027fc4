"""Stage 4: score a generated script on one split of a store's pages.

The script runs only inside :class:`autoheal.sandbox.Sandbox` (one persistent worker for the
whole split); ground truth stays here, in the trusted parent.  Whatever the script does (crash,
hang, return garbage) becomes data in the evaluation document, never an exception.

Definitions used everywhere (README, summary, selection):

* a **cell** is one (page, field); it is correct when :func:`autoheal.scoring.values_match`
  says so (a page with an empty label expects no value);
* ``<FIELD>_pct`` is the share of pages whose cell for that field is correct;
* the **pass rate** (``all_pct``) is the share of pages with *every* field correct;
* ``latency_ms`` is the median per-page round trip measured by the parent.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

from .page import Page
from .scoring import normalize_text, score_page, surface_forms

__all__ = ["evaluate_script", "failures_of", "empty_evaluation"]

_MAX_GOT = 500


def _clip(value: object) -> object:
    if isinstance(value, str) and len(value) > _MAX_GOT:
        return value[:_MAX_GOT] + "…"
    return value


def empty_evaluation(pages: list[Page], fields: list[str], status: str, reason: str) -> dict:
    """An evaluation for a candidate that has no script to run (every cell counts as wrong)."""
    results = [
        {
            "page_id": p.page_id,
            "row": p.row,
            "got": None,
            "correct": dict.fromkeys(fields, False),
            "error": reason,
            "error_kind": status,
            "traceback": None,
            "latency_ms": None,
        }
        for p in pages
    ]
    return _summarise(results, fields, status=status, reason=reason, tier=None)


def evaluate_script(
    script_path: str | Path,
    pages: list[Page],
    fields: list[str],
    types: dict[str, str],
    *,
    sandbox_options: dict | None = None,
) -> dict:
    """Run the script on every page (one sandboxed worker) and score it."""
    from .sandbox import Sandbox

    results = []
    tier = None
    with Sandbox(script_path, **(sandbox_options or {})) as box:
        tier = box.tier
        for page in pages:
            res = box.extract(page.html)
            correct = score_page(page.truth, res.value, types)
            got = None
            if res.value is not None:
                lowered = {str(k).lower(): v for k, v in res.value.items()}
                got = {f: _clip(lowered.get(f.lower())) for f in fields}
            results.append(
                {
                    "page_id": page.page_id,
                    "row": page.row,
                    "got": got,
                    "correct": correct,
                    "error": res.error,
                    "error_kind": res.error_kind,
                    "traceback": res.traceback,
                    "latency_ms": round(res.latency_ms, 3),
                }
            )
    return _summarise(results, fields, status="ok", reason=None, tier=tier)


def _summarise(results: list[dict], fields: list[str], *, status, reason, tier) -> dict:
    n = len(results)
    per_field = {
        f: (round(100.0 * sum(r["correct"][f] for r in results) / n, 1) if n else None)
        for f in fields
    }
    passed = sum(all(r["correct"].values()) for r in results)
    cells = sum(sum(r["correct"].values()) for r in results)
    latencies = [r["latency_ms"] for r in results if r["latency_ms"] is not None]
    return {
        "status": status,
        "reason": reason,
        "tier": tier,
        "pages": n,
        "pages_passed": passed,
        "all_pct": round(100.0 * passed / n, 1) if n else None,
        "field_pct": per_field,
        "cells_correct": cells,
        "cells_total": n * len(fields),
        "fields_correct": sum(1 for v in per_field.values() if v == 100.0),
        "fields_total": len(fields),
        "errors": sum(1 for r in results if r["error"]),
        "latency_ms": round(statistics.median(latencies), 3) if latencies else None,
        "results": results,
    }


def failures_of(
    evaluation: dict,
    pages: list[Page],
    types: dict[str, str],
    *,
    fragment: Callable[[str, list[str]], str | None] | None = None,
    limit: int = 12,
) -> list[dict]:
    """The wrong cells of a train evaluation, as failure records for the improvement prompt.

    Each record: ``{"page_id", "row", "field", "expected", "got", "error", "traceback",
    "fragment"}``; ``fragment`` is the part of the page around the expected value (or None).
    Pages with an exception come first; at most ``limit`` records (one per page and field).
    """
    by_id = {p.page_id: p for p in pages}
    records = []
    for res in evaluation.get("results", []):
        page = by_id.get(res["page_id"])
        if page is None:
            continue
        for field, ok in res["correct"].items():
            if ok:
                continue
            expected = page.truth.get(field)
            got = (res["got"] or {}).get(field) if res["got"] is not None else None
            frag = None
            if fragment is not None and expected is not None:
                frag = fragment(page.html, surface_forms(expected, types.get(field, "text")))
            records.append(
                {
                    "page_id": page.page_id,
                    "row": page.row,
                    "field": field,
                    "expected": expected,
                    "got": got,
                    "error": res["error"],
                    "traceback": res["traceback"],
                    "fragment": frag,
                }
            )
    records.sort(key=lambda r: (r["error"] is None, r["row"], r["field"]))
    return records[:limit]


def describe(value: object) -> str:
    """How a value is shown to people and models: ``None`` stays ``None``."""
    return "None" if value is None else repr(normalize_text(value))
