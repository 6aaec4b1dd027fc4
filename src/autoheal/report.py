"""Stage 8: ``results/report.html``, one self-contained page people can open and forward.

Everything comes from the run's own outputs (``summary.tsv``, ``candidates.tsv``, every
``best.json`` and, when new pages were applied, ``health.tsv``); the plots are PNGs drawn with
matplotlib (Agg, no display needed) and embedded as ``data:`` URIs, so the file works offline
and from any directory; the final scripts are linked relative to the report.

Plots stay legible at any store count: a per-store plot draws at most :data:`MAX_ROWS` stores
(the worst ones: lowest accuracy, slowest, lowest presence or health, so what needs attention is
always shown) and, above that, an aggregate (a histogram or a model x accuracy-band count) next
to it; every number is also in the tables below the plots.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .io import atomic_write_text, read_json

__all__ = ["render_report", "MAX_ROWS"]

MAX_ROWS = 40
_BANDS = [0, 50, 70, 90, 100.01]
_BAND_LABELS = ["<50%", "50-70%", "70-90%", "90-100%"]
_esc = html.escape


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.titlesize": 12, "axes.titleweight": "bold",
                         "figure.dpi": 100, "savefig.dpi": 100})
    return plt


def _png(fig) -> str:
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(png: str, alt: str, caption: str) -> str:
    return (f'<figure><img class="plot" alt="{_esc(alt)}" src="data:image/png;base64,{png}">'
            f"<figcaption>{caption}</figcaption></figure>")


def _short(name: object, n: int = 32) -> str:
    text = str(name)
    return text if len(text) <= n else text[: n - 1] + "…"


def _num(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _heatmap(values: list[list[float | None]], rows: list[str], cols: list[str], title: str,
             *, cbar: str, vmax: float = 100.0, fmt: str = "{:.0f}") -> str:
    plt = _plt()
    import numpy as np

    data = np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)
    height = 1.6 + 0.32 * max(len(rows), 1)
    width = min(14.0, 3.2 + 1.1 * max(len(cols), 1) + 0.06 * max((len(r) for r in rows), default=0))
    fig, ax = plt.subplots(figsize=(width, height))
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#d9d9d9")
    image = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(cols)), labels=cols, rotation=30 if len(cols) > 4 else 0, ha="right" if len(cols) > 4 else "center")
    ax.set_yticks(range(len(rows)), labels=rows)
    if data.size <= 800:
        for (i, j), v in np.ndenumerate(data):
            label = "–" if np.isnan(v) else fmt.format(v)
            dark = not np.isnan(v) and (v < vmax * 0.25 or v > vmax * 0.85)
            ax.text(j, i, label, ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label=cbar, fraction=0.04, pad=0.02)
    return _png(fig)


def _band_heatmap(by_model: dict[str, list[float]], title: str) -> str:
    """Aggregate for many stores: per model, how many stores fall in each accuracy band."""
    plt = _plt()
    import numpy as np

    models = list(by_model)
    counts = np.array([np.histogram([v for v in by_model[m] if v is not None], bins=_BANDS)[0]
                       for m in models], dtype=float)
    fig, ax = plt.subplots(figsize=(7.5, 1.4 + 0.45 * len(models)))
    image = ax.imshow(counts, cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(_BAND_LABELS)), labels=_BAND_LABELS)
    ax.set_yticks(range(len(models)), labels=models)
    for (i, j), v in np.ndenumerate(counts):
        ax.text(j, i, f"{int(v)}", ha="center", va="center",
                color="white" if v > counts.max() * 0.6 else "black")
    ax.set_xlabel("test accuracy band (% of pages with every field right)")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="stores", fraction=0.04, pad=0.02)
    return _png(fig)


def _histogram(values: list[float], title: str, xlabel: str, *, log: bool = False) -> str:
    plt = _plt()
    import numpy as np

    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    vals = np.array([v for v in values if v is not None], dtype=float)
    if log and len(vals) and vals.min() > 0:
        bins = np.logspace(np.log10(vals.min()), np.log10(vals.max() * 1.01), 30)
        ax.set_xscale("log")
    else:
        bins = 30
    ax.hist(vals, bins=bins, color="#4878a8", edgecolor="white")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("stores")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def _store_label(summary: pd.DataFrame) -> dict[str, str]:
    return {r["slug"]: _short(r["store_id"]) for r in summary.to_dict("records")}


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def _accuracy_section(summary: pd.DataFrame, cand: pd.DataFrame, fields: list[str]) -> str:
    done = summary[summary["status"] != "skipped"]
    if done.empty or cand.empty:
        return "<p>No store was healed in this run.</p>"
    labels = _store_label(summary)
    ok = cand[cand["status"].isin(["ok", "stopped"])]
    best = ok.groupby(["slug", "model"])["test_all_pct"].max().unstack()
    models = [m for m in best.columns if m != "baseline"] + (["baseline"] if "baseline" in best.columns else [])
    best = best.reindex(columns=models)
    order = done.sort_values(["all_pct", "store_id"], na_position="first")["slug"].tolist()
    order = [s for s in order if s in best.index]
    out = []
    shown = order[:MAX_ROWS]
    note = "" if len(order) <= MAX_ROWS else f" (the {MAX_ROWS} lowest of {len(order)} stores)"
    png = _heatmap([[_num(best.at[s, m]) for m in models] for s in shown], [labels[s] for s in shown],
                   models, f"Test accuracy per store and model{note}", cbar="% of test pages fully right")
    out.append(_figure(png, "heatmap of test accuracy per store and model",
                       "Best iteration of each model per store, on the held-out test pages (never "
                       "shown to a generator); <i>baseline</i> is the naive regex script. Grey: the "
                       f"model did not run. Stores sorted worst first{note}."))
    if len(order) > MAX_ROWS:
        png = _band_heatmap({m: [_num(v) for v in best[m].tolist()] for m in models},
                            f"All {len(order)} stores: test accuracy bands per model")
        out.append(_figure(png, "stores per accuracy band and model",
                           "How many stores each model brings into each accuracy band."))
    per_field = [f"{f}_pct" for f in fields if f"{f}_pct" in done.columns]
    if per_field:
        rows = done.set_index("slug").reindex(shown)
        png = _heatmap([[_num(rows.at[s, c]) for c in per_field] for s in shown],
                       [labels[s] for s in shown], [c[:-4] for c in per_field],
                       f"Test accuracy per field of the selected script{note}",
                       cbar="% of test pages with the field right")
        out.append(_figure(png, "heatmap of test accuracy per store and field",
                           "Which field fails where: the selected script per store, per field."))
    return "\n".join(out)


def _iteration_section(cand: pd.DataFrame) -> str:
    plt = _plt()
    rows = cand[(cand["model"] != "baseline") & cand["status"].isin(["ok", "stopped"])]
    if rows.empty:
        return "<p>No healing iterations in this run.</p>"
    models = sorted(rows["model"].unique())
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    helped = {}
    for model in models:
        sub = rows[rows["model"] == model]
        pivot = sub.pivot_table(index="slug", columns="iteration", values="test_all_pct", aggfunc="max")
        pivot_train = sub.pivot_table(index="slug", columns="iteration", values="train_all_pct", aggfunc="max")
        # best so far: a store keeps its best earlier iteration (that is what selection does)
        best_so_far = pivot.cummax(axis=1)
        iters = list(pivot.columns)
        line = ax.plot(iters, best_so_far.mean().tolist(), marker="o", label=f"{model} test (best so far)")
        ax.plot(iters, pivot_train.mean().tolist(), marker="s", linestyle="--", alpha=0.6,
                color=line[0].get_color(), label=f"{model} train")
        first = pivot[iters[0]]
        better = int((best_so_far[iters[-1]] > first + 1e-9).sum())
        helped[model] = (better, len(pivot))
    ax.set_xlabel("iteration (0 = first inference)")
    ax.set_ylabel("mean % of pages fully right")
    ax.set_ylim(0, 105)
    ax.set_xticks(sorted(rows["iteration"].unique()))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Accuracy by iteration")
    names = list(helped)
    bx.barh(names, [helped[m][1] for m in names], color="#d9d9d9", label="stores")
    bx.barh(names, [helped[m][0] for m in names], color="#2a9d5c", label="improved by healing")
    for i, m in enumerate(names):
        bx.text(helped[m][1], i, f" {helped[m][0]}/{helped[m][1]}", va="center")
    bx.set_xlim(0, max(n for _, n in helped.values()) * 1.25)
    bx.set_xlabel("stores")
    bx.set_title("Did healing help?")
    bx.legend(fontsize=8, loc="lower right")
    caption = ("Left: mean accuracy over stores at each iteration (test: the best iteration so far, "
               "as selection keeps it; train: what the generator was shown). Right: stores whose test "
               "accuracy rose after iteration 0. An iteration marked <i>stopped</i> made no call "
               "because the previous one already reached <code>min_pass_rate</code> on train.")
    return _figure(_png(fig), "accuracy by iteration per model", caption)


def _cost_section(summary: pd.DataFrame, cand: pd.DataFrame) -> str:
    plt = _plt()
    rows = cand[cand["model"] != "baseline"]
    if rows.empty:
        return ""
    ok = rows[rows["status"].isin(["ok", "stopped"])]
    best = ok.groupby(["slug", "model"])["test_all_pct"].max().reset_index()
    per_model = []
    for model in sorted(rows["model"].unique()):
        sub = rows[rows["model"] == model]
        acc = best[best["model"] == model]["test_all_pct"]
        per_model.append({"model": model, "calls": int(sub["calls"].sum()),
                          "cost": float(sub["cost_usd"].sum()),
                          "tokens": int(sub["input_tokens"].sum() + sub["output_tokens"].sum()),
                          "acc": float(acc.mean()) if len(acc) else float("nan"),
                          "stores": int(acc.notna().sum())})
    base = cand[cand["model"] == "baseline"]["test_all_pct"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True)
    for ax, key, xlabel in ((axes[0], "cost", "total cost (USD)"), (axes[1], "calls", "paid model calls")):
        for i, m in enumerate(per_model):
            ax.scatter(m[key], m["acc"], s=60 + 8 * m["stores"] ** 0.5, color=f"C{i}", zorder=3)
            ax.annotate(f"{m['model']} ({m['stores']} stores)", (m[key], m["acc"]),
                        textcoords="offset points", xytext=(6, 6), fontsize=9)
        if len(base):
            ax.axhline(float(base.mean()), color="grey", linestyle=":", label="naive baseline")
            ax.legend(fontsize=8, loc="lower right")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        hi = max([m[key] for m in per_model] + [0])
        ax.set_xlim(-0.05 * (hi or 1), (hi or 1) * 1.35)
    axes[0].set_ylabel("mean test accuracy (%)")
    axes[0].set_ylim(0, 105)
    fig.suptitle("Cost and calls against accuracy per model", fontweight="bold")
    rows_html = "".join(
        f"<tr><td>{_esc(m['model'])}</td><td>{m['stores']}</td><td>{m['acc']:.1f}</td>"
        f"<td>{m['calls']}</td><td>{m['tokens']:,}</td><td>{m['cost']:.4f}</td></tr>"
        for m in per_model
    )
    saved = int(summary["calls_saved"].fillna(0).sum()) if "calls_saved" in summary else 0
    table = ("<table><tr><th>model</th><th>stores run</th><th>mean test %</th><th>calls</th>"
             f"<th>tokens</th><th>cost USD</th></tr>{rows_html}</table>"
             f"<p>Calls the cost cascade avoided: at least {saved}. Cached replies cost nothing.</p>")
    caption = ("Each point is one model: its summed cost (left) or paid calls (right) over all stores "
               "and iterations, against its mean best test accuracy over the stores it ran on. "
               "<code>synth</code> is offline and free.")
    return _figure(_png(fig), "cost and calls against accuracy per model", caption) + table


def _latency_section(summary: pd.DataFrame) -> str:
    plt = _plt()
    done = summary[summary["latency_ms"].notna()].sort_values("latency_ms", ascending=False)
    if done.empty:
        return "<p>No script ran.</p>"
    shown = done.head(MAX_ROWS)
    note = "" if len(done) <= MAX_ROWS else f" (the {MAX_ROWS} slowest of {len(done)} stores)"
    fig, ax = plt.subplots(figsize=(9, 1.4 + 0.3 * len(shown)))
    labels = [_short(s) for s in shown["store_id"]]
    ax.barh(labels[::-1], shown["latency_ms"].tolist()[::-1], color="#4878a8")
    for i, v in enumerate(shown["latency_ms"].tolist()[::-1]):
        ax.text(v, i, f" {v:.1f}", va="center", fontsize=8)
    ax.set_xlabel("median latency per page (ms, sandboxed, test pages)")
    ax.set_title(f"Script latency per store{note}")
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlim(0, float(shown["latency_ms"].max()) * 1.15)
    out = [_figure(_png(fig), "bar chart of script latency per store",
                   f"Median round trip of the selected script per page, measured by the trusted "
                   f"parent around the sandbox{note}.")]
    if len(done) > MAX_ROWS:
        png = _histogram(done["latency_ms"].tolist(), f"Latency of all {len(done)} stores",
                         "median latency per page (ms, log scale)", log=True)
        out.append(_figure(png, "histogram of script latency", "Distribution over every store."))
    return "\n".join(out)


def _skipped_section(summary: pd.DataFrame) -> str:
    rows = summary[summary["status"].isin(["skipped", "no_script"])]
    if rows.empty:
        return "<p>No store was skipped: every store got a script.</p>"
    body = "".join(
        f"<tr><td>{_esc(str(r['store_id']))}</td><td>{_esc(str(r['status']))}</td>"
        f"<td>{_esc(str(r['samples']))}</td><td>{_esc(str(r['reason']) if r['reason'] == r['reason'] and r['reason'] is not None else 'no candidate produced a usable script')}</td></tr>"
        for r in rows.to_dict("records")
    )
    return (f"<p>{len(rows)} store(s) have no script.</p><table><tr><th>store</th><th>status</th>"
            f"<th>pages</th><th>why</th></tr>{body}</table>")


def _presence_section(docs: list[dict], fields: list[str]) -> str:
    values, names = [], []
    for doc in docs:
        presence = doc.get("presence") or {}
        if not presence:
            continue
        row = []
        for f in fields:
            labelled = sum((presence.get(s) or {}).get(f, {}).get("labelled", 0) for s in ("train", "test"))
            present = sum((presence.get(s) or {}).get(f, {}).get("present", 0) for s in ("train", "test"))
            row.append(100.0 * present / labelled if labelled else None)
        values.append(row)
        names.append(_short(doc["store_id"]))
    if not values:
        return "<p>No presence data (every store was skipped).</p>"
    order = sorted(range(len(values)), key=lambda i: (min([v for v in values[i] if v is not None] or [101]), names[i]))
    shown = order[:MAX_ROWS]
    note = "" if len(order) <= MAX_ROWS else f" (the {MAX_ROWS} lowest of {len(order)} stores)"
    png = _heatmap([values[i] for i in shown], [names[i] for i in shown], fields,
                   f"Ground truth present in its page{note}", cbar="% of labels found in the page")
    out = [_figure(png, "heatmap of ground-truth presence per store and field",
                   "Share of each field's labels (train and test) that occur in their page at all, "
                   "after normalisation. Below 100%: a label that is not on its page (mislabelled, "
                   "or rendered by JavaScript) can never be extracted. Grey: the field has no labels "
                   f"in this store{note}.")]
    if len(order) > MAX_ROWS:
        mins = [min([v for v in row if v is not None] or [100.0]) for row in values]
        out.append(_figure(_histogram(mins, f"Lowest field presence, all {len(order)} stores",
                                      "% of labels present (worst field per store)"),
                           "histogram of label presence", "Distribution over every store."))
    return "\n".join(out)


def _health_section(health: pd.DataFrame | None) -> str:
    if health is None:
        return ("<p>Nothing applied: set the config key <code>apply_data</code> to a CSV of new "
                "pages to run the selected scripts on them and check their health.</p>")
    if health.empty:
        return "<p>The apply data has no pages.</p>"
    counts = health["status"].value_counts().to_dict()
    summary = ", ".join(f"{v} {_esc(k)}" for k, v in counts.items())
    out = [f"<p>{summary}.</p>"]
    field_cols = [c for c in health.columns if c.endswith("_health") and c != "health"]
    measured = health[health["status"].isin(["healthy", "drifted"])]
    if field_cols and not measured.empty:
        measured = measured.assign(_h=measured["health"].astype(float)).sort_values(["_h", "store_id"])
        shown = measured.head(MAX_ROWS)
        note = "" if len(measured) <= MAX_ROWS else f" (the {MAX_ROWS} least healthy of {len(measured)})"
        names = [("⚠ " if s == "drifted" else "") + _short(n) for n, s in zip(shown["store_id"], shown["status"], strict=True)]
        png = _heatmap([[_num(v) for v in r] for r in shown[field_cols].itertuples(index=False)],
                       names, [c[: -len("_health")] for c in field_cols],
                       f"Health on new pages per store and field{note}",
                       cbar="% of new pages with the value present and well-shaped")
        out.append(_figure(png, "heatmap of script health on new pages",
                           "Share of the new pages on which the selected script returned the field, "
                           "in the shape of its labels, without crashing. ⚠ = drifted: health fell "
                           "past <code>health_threshold</code> below the labelled pages."))
    body = []
    for r in health.to_dict("records"):
        cls = ' class="drifted"' if r["status"] == "drifted" else ""
        cmd = r.get("heal_command")
        hint = ""
        if isinstance(cmd, str) and cmd:
            hint = f"<br><small>{_esc(str(r.get('next_step') or ''))}:</small><br><code>{_esc(cmd)}</code>"
        body.append(
            f"<tr{cls}><td>{_esc(str(r['store_id']))}</td><td>{_esc(str(r['status']))}</td>"
            f"<td>{_fmt(r.get('pages'))}</td><td>{_fmt(r.get('health'))}</td><td>{_fmt(r.get('health_ref'))}</td>"
            f"<td>{_esc(_str(r.get('reason')))}{hint}</td></tr>"
        )
    out.append("<table><tr><th>store</th><th>status</th><th>new pages</th><th>health %</th>"
               "<th>on labelled pages %</th><th>why / what to do</th></tr>" + "".join(body) + "</table>")
    return "\n".join(out)


def _str(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _fmt(value) -> str:
    num = _num(value)
    if num is None:
        return "–"
    return f"{num:g}"


def _scripts_section(summary: pd.DataFrame, out_dir: Path) -> str:
    rows = summary[summary["script"].notna()].sort_values("store_id")
    if rows.empty:
        return "<p>No final script.</p>"
    body = []
    for r in rows.to_dict("records"):
        script = str(r["script"])
        href = os.path.relpath(Path(script).resolve(), out_dir.resolve())
        body.append(
            f"<tr><td>{_esc(str(r['store_id']))}</td><td><a href=\"{_esc(href)}\">{_esc(Path(script).name)}</a></td>"
            f"<td>{_esc(str(r['model']))}</td><td>{_fmt(r['iteration'])}</td><td>{_fmt(r['all_pct'])}</td>"
            f"<td>{_fmt(r['latency_ms'])}</td><td>{_esc(str(r['status']))}</td></tr>"
        )
    return ("<table><tr><th>store</th><th>final script</th><th>model</th><th>iteration</th>"
            "<th>test %</th><th>latency ms</th><th>status</th></tr>" + "".join(body) + "</table>")


def _overview(summary: pd.DataFrame, cand: pd.DataFrame) -> str:
    done = summary[summary["status"] != "skipped"]
    status = summary["status"].value_counts().to_dict()
    acc = done["all_pct"].dropna()
    cells = [
        ("stores", len(summary)),
        ("healed", status.get("healed", 0)),
        ("below target", status.get("below_target", 0)),
        ("no script", status.get("no_script", 0)),
        ("skipped", status.get("skipped", 0)),
        ("mean test accuracy", f"{acc.mean():.1f}%" if len(acc) else "–"),
        ("model calls", int(summary["calls"].fillna(0).sum())),
        ("cost", f"${float(summary['cost_usd'].fillna(0).sum()):.2f}"),
    ]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{_esc(str(v))}</div><div class="k">{_esc(k)}</div></div>'
        for k, v in cells) + "</div>"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px 28px 64px;background:#fff}
h1{margin:0 0 4px}h2{margin-top:40px;border-bottom:2px solid #e3e6ea;padding-bottom:4px}
nav a{margin-right:14px}small,.muted{color:#5b6570}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.card{border:1px solid #e3e6ea;border-radius:8px;padding:8px 14px;min-width:96px}
.card .v{font-size:1.4rem;font-weight:700}.card .k{color:#5b6570;font-size:.85rem}
figure{margin:18px 0}figure img{max-width:100%;height:auto;border:1px solid #eef0f2}
figcaption{color:#5b6570;font-size:.9rem;max-width:900px}
table{border-collapse:collapse;margin:10px 0;font-size:.88rem}
th,td{border:1px solid #e3e6ea;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f2f4f6}tr.drifted td{background:#fff1f0}
code{background:#f2f4f6;padding:1px 4px;border-radius:3px;font-size:.85em}
details{margin:10px 0}
"""

# Records each plot's decoded size and position (tests/test_report.py reads them through a
# headless browser); harmless for readers.
_JS = """
window.addEventListener('load',function(){var n=0;document.querySelectorAll('img.plot').forEach(
function(i){var r=i.getBoundingClientRect();i.dataset.natural=i.naturalWidth+'x'+i.naturalHeight;
i.dataset.box=[Math.round(r.left+scrollX),Math.round(r.top+scrollY),Math.round(r.width),
Math.round(r.height)].join(',');if(i.complete&&i.naturalWidth>0)n++;});
document.body.dataset.plotsLoaded=n;
document.body.dataset.pageHeight=document.documentElement.scrollHeight;});
"""


def render_report(
    *,
    summary: str | os.PathLike,
    candidates: str | os.PathLike,
    best_paths: list[str | os.PathLike],
    health: str | os.PathLike | None,
    out: str | os.PathLike,
    title: str = "autoheal report",
) -> int:
    """Write the report to ``out``; return its size in bytes."""
    out = Path(out)
    summ = pd.read_csv(summary, sep="\t")
    try:
        cand = pd.read_csv(candidates, sep="\t")
    except pd.errors.EmptyDataError:
        cand = pd.DataFrame(columns=["slug", "model", "iteration", "status", "train_all_pct",
                                     "test_all_pct", "calls", "cost_usd", "input_tokens",
                                     "output_tokens"])
    docs = sorted((read_json(p) for p in best_paths), key=lambda d: d["store_id"])
    fields: list[str] = []
    for doc in docs:
        fields += [f for f in doc.get("fields", []) if f not in fields]
    health_df = pd.read_csv(health, sep="\t") if health else None
    sections = [
        ("accuracy", "Test accuracy", _accuracy_section(summ, cand, fields)),
        ("iterations", "Accuracy by iteration", _iteration_section(cand)),
        ("cost", "Cost and calls", _cost_section(summ, cand)),
        ("latency", "Script latency", _latency_section(summ)),
        ("skipped", "Stores without a script", _skipped_section(summ)),
        ("presence", "Ground truth presence", _presence_section(docs, fields)),
        ("health", "New pages: health and drift", _health_section(health_df)),
        ("scripts", "Final scripts", _scripts_section(summ, out.parent)),
    ]
    nav = " ".join(f'<a href="#{key}">{_esc(name)}</a>' for key, name, _ in sections)
    full = summ.to_html(index=False, na_rep="–", border=0, escape=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head>",
        "<body><main>",
        f"<h1>{_esc(title)}</h1><p class=\"muted\">Generated {stamp} from results/summary.tsv, "
        "results/candidates.tsv and results/stores/*/best.json"
        + (", results/health.tsv" if health else "") + ".</p>",
        _overview(summ, cand),
        f"<nav>{nav}</nav>",
    ]
    for key, name, body in sections:
        page.append(f'<section id="{key}"><h2>{_esc(name)}</h2>{body}</section>')
    page.append(f"<details><summary>Every store (results/summary.tsv)</summary>{full}</details>")
    page.append(f"</main><script>{_JS}</script></body></html>\n")
    text = "\n".join(page)
    atomic_write_text(out, text)
    return len(text.encode("utf-8"))
