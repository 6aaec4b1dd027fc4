"""Stage 5: pick each store's best (model, iteration) and save it as the final script.

Rule: the most TEST pages with every field right, then the most correct test cells, then the
lowest median latency (then the earlier iteration and the model name, so the choice is
deterministic).  Stopped iterations (copies), candidates without a script and the
``baseline`` are never selected; the baseline is reported next to the winner.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .heal import BASELINE
from .io import atomic_write_json, atomic_write_text, read_json

__all__ = ["select_best", "candidate_rows", "final_name"]

log = logging.getLogger(__name__)


def final_name(slug: str, model: str, iteration: int) -> str:
    return f"final_{slug}_{model}_iter{iteration}.py"


def candidate_rows(store_slug: str, model: str, model_dir: Path, iterations: int) -> list[dict]:
    """One row per iteration of one (store, model) from its train/test JSON files."""
    rows = []
    for n in range(iterations + 1):
        it_dir = model_dir / f"iter{n}"
        missing = [p.name for p in (it_dir / "train.json", it_dir / "test.json", it_dir / "script.py")
                   if not p.exists()]
        if missing:  # only train/test of the last iteration are declared outputs: a hand deletion
            rows.append(_missing_row(model, n, it_dir, missing))
            continue
        train = read_json(it_dir / "train.json")
        test = read_json(it_dir / "test.json")
        gen = train.get("generation", {})
        rows.append(
            {
                "model": model,
                "iteration": n,
                "status": test["status"],
                "reason": test.get("reason"),
                "train_all_pct": train["all_pct"],
                "test_all_pct": test["all_pct"],
                "test_field_pct": test["field_pct"],
                "test_pages_passed": test["pages_passed"],
                "test_cells_correct": test["cells_correct"],
                "fields_correct": test["fields_correct"],
                "fields_total": test["fields_total"],
                "latency_ms": test["latency_ms"],
                "errors": test["errors"],
                "tier": test.get("tier"),
                "calls": gen.get("calls", 0),
                "cached": gen.get("cached", False),
                "input_tokens": gen.get("input_tokens", 0) or 0,
                "output_tokens": gen.get("output_tokens", 0) or 0,
                "cost_usd": gen.get("cost_usd", 0.0) or 0.0,
                "script": str(it_dir / "script.py"),
            }
        )
    return rows


def _missing_row(model: str, n: int, it_dir: Path, missing: list[str]) -> dict:
    reason = (
        f"{', '.join(missing)} missing in {it_dir} (deleted?): rerun with "
        f"`snakemake --forcerun heal_store` to rebuild this candidate"
    )
    log.warning(reason)
    return {
        "model": model, "iteration": n, "status": "missing", "reason": reason,
        "train_all_pct": None, "test_all_pct": None, "test_field_pct": {}, "test_pages_passed": 0,
        "test_cells_correct": 0, "fields_correct": 0, "fields_total": 0, "latency_ms": None,
        "errors": 0, "tier": None, "calls": 0, "cached": False, "input_tokens": 0,
        "output_tokens": 0, "cost_usd": 0.0, "script": str(it_dir / "script.py"),
    }


def _rank(row: dict) -> tuple:
    latency = row["latency_ms"] if row["latency_ms"] is not None else float("inf")
    return (-row["test_pages_passed"], -row["test_cells_correct"], latency, row["iteration"], row["model"])


def _header(store_id: str, row: dict) -> str:
    return (
        f"# autoheal final script for store {json.dumps(store_id, ensure_ascii=True)}\n"
        f"# model {row['model']}, iteration {row['iteration']}: test {row['test_all_pct']}% of pages "
        f"fully correct, median latency {row['latency_ms']} ms\n"
    )


def select_best(
    samples: dict,
    model_dirs: dict[str, Path],
    *,
    iterations: dict[str, int],
    final_dir: str | Path,
    min_pass_rate: float,
    rungs: dict[str, str] | None = None,
) -> dict:
    """Choose the best candidate, write its final script, return the ``best.json`` document."""
    store_slug = samples["slug"]
    doc = {
        "store_id": samples["store_id"],
        "slug": store_slug,
        "fields": samples["fields"],
        "types": samples["types"],
        "samples": samples["samples"],
        "rows": samples["rows"],
        "duplicates": len(samples["duplicates"]),
        "train": len(samples["train"]),
        "test": len(samples["test"]),
        "presence": samples["presence"],
        "skipped": samples["skipped"],
        "status": "skipped" if samples["skipped"] else None,
        "best": None,
        "baseline": None,
        "candidates": [],
        "rung": None,
        "calls_saved": 0,
    }
    final_dir = Path(final_dir)
    _remove_finals(final_dir, store_slug, list(model_dirs))
    if samples["skipped"]:
        return doc
    rows = []
    for model, model_dir in model_dirs.items():
        rows += candidate_rows(store_slug, model, Path(model_dir), iterations[model])
    _only_labelled_fields(rows, samples)
    doc["candidates"] = rows
    # The cascade saved at least the first-inference call of every model it skipped.
    doc["calls_saved"] = sum(1 for r in rows if r["iteration"] == 0 and r["status"] == "cascade_skipped")
    doc["baseline"] = next((r for r in rows if r["model"] == BASELINE), None)
    eligible = [r for r in rows if r["model"] != BASELINE and r["status"] == "ok"]
    if not eligible:
        doc["status"] = "no_script"
        return doc
    best = min(eligible, key=_rank)
    target = final_dir / final_name(store_slug, best["model"], best["iteration"])
    source = Path(best["script"]).read_text(encoding="utf-8")
    atomic_write_text(target, _header(samples["store_id"], best) + source)
    doc["best"] = {**best, "final_script": str(target)}
    doc["rung"] = (rungs or {}).get(best["model"])
    doc["status"] = "healed" if (best["test_all_pct"] or 0) >= min_pass_rate else "below_target"
    return doc


def _only_labelled_fields(rows: list[dict], samples: dict) -> None:
    """Per-field scores only for fields this store labels somewhere: a field that is empty on
    every page is 'right' for any script that returns None, which says nothing."""
    presence = samples["presence"]
    labelled = [
        f for f in samples["fields"]
        if any(presence.get(split, {}).get(f, {}).get("labelled") for split in ("train", "test"))
    ]
    for row in rows:
        row["test_field_pct"] = {f: (row["test_field_pct"] or {}).get(f) for f in labelled}
        row["fields_correct"] = sum(1 for v in row["test_field_pct"].values() if v == 100.0)
        row["fields_total"] = len(labelled)


def _remove_finals(final_dir: Path, store_slug: str, models: list[str]) -> None:
    """Drop this store's earlier final scripts (names built from the known models only, so a
    store whose slug extends this one is never touched; the summary prunes the rest)."""
    for model in models:
        for n in range(6):
            (final_dir / final_name(store_slug, model, n)).unlink(missing_ok=True)


def write_best(doc: dict, path: str | Path) -> None:
    atomic_write_json(path, doc)
