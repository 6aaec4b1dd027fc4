"""Stage 6: aggregate every store's ``best.json`` into the tables people read.

Writes ``results/summary.tsv`` (one row per store, skipped stores included with their reason),
``results/candidates.tsv`` (one row per store, model and iteration, baseline included) and
``results/summary.txt`` (the console table of the original tool: Store | Samples | Model | one
% column per field | All % | Fields x/y | Latency | Iter, an AVERAGE row, the best-model
distribution and the list of generated scripts), plus the label-presence table.
"""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

import pandas as pd

from .io import atomic_write_text, read_json

__all__ = ["summarize", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = [
    "store_id", "slug", "samples", "train", "test", "model", "iteration",
    # <FIELD>_pct columns go here
    "all_pct", "fields_correct", "fields_total", "latency_ms", "status", "script",
    "baseline_all_pct", "train_all_pct", "rung", "calls", "calls_saved", "input_tokens",
    "output_tokens", "cost_usd", "duplicates", "reason",
]  # fmt: skip


_INT_COLUMNS = ["samples", "train", "test", "iteration", "fields_correct", "fields_total", "calls",
                "calls_saved", "input_tokens", "output_tokens", "duplicates"]


def _fields(docs: list[dict]) -> list[str]:
    fields: list[str] = []
    for doc in docs:
        for f in doc["fields"]:
            if f not in fields:
                fields.append(f)
    return fields


def _summary_row(doc: dict, fields: list[str]) -> dict:
    best = doc["best"] or {}
    rows = doc["candidates"]
    calls = sum(r["calls"] for r in rows)
    row = {
        "store_id": doc["store_id"],
        "slug": doc["slug"],
        "samples": doc["samples"],
        "train": doc["train"],
        "test": doc["test"],
        "model": best.get("model"),
        "iteration": best.get("iteration"),
        **{f"{f}_pct": (best.get("test_field_pct") or {}).get(f) for f in fields},
        "all_pct": best.get("test_all_pct"),
        "fields_correct": best.get("fields_correct"),
        "fields_total": best.get("fields_total"),
        "latency_ms": best.get("latency_ms"),
        "status": doc["status"],
        "script": best.get("final_script"),
        "baseline_all_pct": (doc["baseline"] or {}).get("test_all_pct"),
        "train_all_pct": best.get("train_all_pct"),
        "rung": doc.get("rung"),
        "calls": calls,
        "calls_saved": doc.get("calls_saved", 0),
        "input_tokens": sum(r["input_tokens"] for r in rows),
        "output_tokens": sum(r["output_tokens"] for r in rows),
        "cost_usd": round(sum(r["cost_usd"] for r in rows), 6),
        "duplicates": doc["duplicates"],
        "reason": doc["skipped"],
    }
    return row


def _candidate_rows(doc: dict, fields: list[str]) -> list[dict]:
    out = []
    for r in doc["candidates"]:
        out.append(
            {
                "store_id": doc["store_id"],
                "slug": doc["slug"],
                "model": r["model"],
                "iteration": r["iteration"],
                "status": r["status"],
                "train_all_pct": r["train_all_pct"],
                "test_all_pct": r["test_all_pct"],
                **{f"{f}_pct": (r["test_field_pct"] or {}).get(f) for f in fields},
                "fields_correct": r["fields_correct"],
                "fields_total": r["fields_total"],
                "latency_ms": r["latency_ms"],
                "errors": r["errors"],
                "tier": r["tier"],
                "calls": r["calls"],
                "cached": r["cached"],
                "input_tokens": r["input_tokens"],
                "output_tokens": r["output_tokens"],
                "cost_usd": r["cost_usd"],
                "selected": bool(doc["best"])
                and (r["model"], r["iteration"]) == (doc["best"]["model"], doc["best"]["iteration"]),
                "script": r["script"],
                "reason": r["reason"],
            }
        )
    return out


def _int(value) -> int | None:
    return None if value is None or value != value else int(value)


def _fmt(value, suffix="") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}{suffix}"
    return f"{value}{suffix}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    sep = "-+-".join("-" * w for w in widths)
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.fmean(values), 1) if values else None


def render_console(summary: pd.DataFrame, candidates: pd.DataFrame, fields: list[str]) -> str:
    """The results table and its companions, as printed at the end of a run."""
    done = summary[summary["status"] != "skipped"]
    headers = ["Store", "Samples", "Model", *[f"{f} %" for f in fields], "All %", "Fields",
               "Latency", "Iter", "Base %", "Status"]  # fmt: skip
    rows = []
    for r in done.to_dict("records"):
        total = _int(r["fields_total"])
        fields_cell = "-" if total is None else f"{_int(r['fields_correct'])}/{total}"
        rows.append(
            [
                str(r["store_id"]),
                f"{r['samples']} ({r['train']}/{r['test']})",
                _fmt(r["model"]),
                *[_fmt(r[f"{f}_pct"]) for f in fields],
                _fmt(r["all_pct"]),
                fields_cell,
                _fmt(r["latency_ms"], " ms"),
                _fmt(_int(r["iteration"])),
                _fmt(r["baseline_all_pct"]),
                str(r["status"]),
            ]
        )
    recs = done.to_dict("records")
    rows.append(
        [
            "AVERAGE",
            _fmt(_mean(r["samples"] for r in recs)),
            "",
            *[_fmt(_mean(r[f"{f}_pct"] for r in recs)) for f in fields],
            _fmt(_mean(r["all_pct"] for r in recs)),
            "",
            _fmt(_mean(r["latency_ms"] for r in recs), " ms"),
            "",
            _fmt(_mean(r["baseline_all_pct"] for r in recs)),
            f"{sum(r['status'] == 'healed' for r in recs)}/{len(recs)} healed",
        ]
    )
    out = ["RESULTS (test split; % of pages correct per field, All % = pages with every field right)",
           _table(headers, rows), ""]  # fmt: skip
    models = Counter(r["model"] for r in recs if r["model"] == r["model"] and r["model"])
    out.append("Best model distribution: " + (", ".join(f"{m}: {c}" for m, c in models.most_common()) or "-"))
    calls = int(summary["calls"].sum())
    cost = float(summary["cost_usd"].sum())
    saved = int(summary["calls_saved"].sum())
    out.append(f"Model calls: {calls} (cost ${cost:.4f}); calls saved by the cascade: at least {saved}")
    rungs = Counter(r["rung"] for r in recs if isinstance(r["rung"], str))
    if rungs:
        out.append("Healed by rung: " + ", ".join(f"{k}: {v}" for k, v in rungs.most_common()))
    skipped = summary[summary["status"] == "skipped"]
    if len(skipped):
        out.append("")
        out.append("Skipped stores:")
        out += [f"  {r['store_id']}: {r['reason']}" for r in skipped.to_dict("records")]
    out.append("")
    out.append("Generated scripts:")
    out += [f"  {s}" for s in done["script"].dropna()]
    return "\n".join(out) + "\n"


def render_presence(docs: list[dict], fields: list[str]) -> str:
    """Per store, field and split: % of labels that occur in their page at all."""
    headers = ["Store", "Split", *fields]
    rows = []
    for doc in docs:
        for split in ("train", "test"):
            stats = (doc.get("presence") or {}).get(split)
            if not stats:
                continue
            cells = []
            for f in fields:
                s = stats.get(f)
                cells.append("-" if not s or not s["labelled"] else f"{s['pct']:.0f}% ({s['present']}/{s['labelled']})")
            rows.append([str(doc["store_id"]), split, *cells])
    return "LABEL PRESENCE (share of labels found in their page, normalised)\n" + _table(headers, rows) + "\n"


def summarize(best_paths: list[str | Path], out_dir: str | Path) -> str:
    """Write summary.tsv, candidates.tsv and summary.txt under ``out_dir``; return the text."""
    out_dir = Path(out_dir)
    docs = [read_json(p) for p in best_paths]
    docs.sort(key=lambda d: d["store_id"])
    fields = _fields(docs)
    columns = SUMMARY_COLUMNS[:7] + [f"{f}_pct" for f in fields] + SUMMARY_COLUMNS[7:]
    summary = pd.DataFrame([_summary_row(d, fields) for d in docs], columns=columns)
    for col in _INT_COLUMNS:
        summary[col] = summary[col].astype("Int64")
    cand = pd.DataFrame([row for d in docs for row in _candidate_rows(d, fields)])
    atomic_write_text(out_dir / "summary.tsv", summary.to_csv(sep="\t", index=False))
    atomic_write_text(out_dir / "candidates.tsv", cand.to_csv(sep="\t", index=False))
    _prune_finals(out_dir / "final", {d["best"]["final_script"] for d in docs if d["best"]})
    text = render_presence(docs, fields) + "\n" + render_console(summary, cand, fields)
    atomic_write_text(out_dir / "summary.txt", text)
    return text


def _prune_finals(final_dir: Path, keep: set[str]) -> None:
    """Remove final scripts of stores that are no longer in the input (or no longer selected)."""
    if not final_dir.is_dir():
        return
    keep_names = {Path(k).name for k in keep}
    for path in final_dir.glob("final_*.py"):
        if path.name not in keep_names:
            path.unlink(missing_ok=True)
