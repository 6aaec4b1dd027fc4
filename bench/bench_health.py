"""Bench: does the health check flag stores whose template changed, and only those?

For every demo store with enough labelled pages (``store_data/Store_OCP_Data.csv``): split its
pages as the workflow does, heal a script with the offline synthesizer (iteration 0, like the
demo run), then draw batches of new orders of that store from the demo generator
(:func:`autoheal.demo.new_store_pages`, a fresh order stream per batch, the store's own
template) and run the health check of :mod:`autoheal.health` on them, exactly as
``apply_script`` does (script in the sandbox on the labelled pages and on the new pages):

* **unchanged** batches: the template is the one the script was healed on -> any flag is a
  false alarm;
* **changed** batches: a share of the batch's pages gets one template change from
  :mod:`autoheal.drift` (renamed classes, moved blocks, a new wrapper, a relabelled field, a
  different money format).

A change does not always break the script (a script anchored on captions survives renamed
classes).  Because the bench knows the labels of the new pages it also scores the script on
every changed page and on the same page unchanged: a changed batch is **broken** when the
change turned at least ``--min-broken`` of its pages from right to wrong (by default 20% of
the batch, the smallest damage worth relabelling for).  The table reports recall on
all changed batches and on broken ones (the check's purpose: label-free detection of broken
extraction), and the false-alarm rate on unchanged batches.  Goal: recall on broken batches
>= 95 % with <= 5 % false alarms.

Usage: ``python bench/bench_health.py [--trials 4] [--unchanged 20] [--pages 10]
[--shares 0.3,0.5,1.0] [--threshold 20]``
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from autoheal import demo
from autoheal.drift import CHANGES, change_page
from autoheal.health import DEFAULT_ALPHA, DEFAULT_THRESHOLD, classify, profile_fields, store_health
from autoheal.samples import field_types, read_stores, split_pages
from autoheal.sandbox import Sandbox
from autoheal.scoring import score_page
from autoheal.synth import synthesize

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "store_data" / "Store_OCP_Data.csv"


def _run(box: Sandbox, html: str):
    res = box.extract(html)
    return res.value, res.error


def bench_store(spec, pages, args, out_dir: Path) -> list[dict]:
    fields = list(pages[0].truth)
    types = field_types(pages, fields)
    train, test = split_pages(pages, 0.5)
    labelled = train + test
    script = out_dir / f"{spec.store_id.replace('/', '_')}.py"
    script.write_text(synthesize(train, fields, types), encoding="utf-8")
    judged = [f for f in fields if any(p.truth.get(f) for p in labelled)]
    profiles = profile_fields((p.truth for p in labelled), fields, types)
    records = []
    rng = random.Random(f"bench-health:{spec.store_id}")
    with Sandbox(script) as box:
        ref = [classify(*_run(box, p.html), fields, profiles) for p in labelled]

        def verdict(classes):
            return store_health(ref, classes, judged, threshold=args.threshold, alpha=args.alpha)

        batches = max(args.trials, args.unchanged)
        for t in range(batches):
            new = demo.new_store_pages(spec, count=args.pages, batch=f"bench{t}")
            orig = [_run(box, html) for html, _labels in new]
            orig_classes = [classify(v, e, fields, profiles) for v, e in orig]
            orig_right = [score_page(labels, v, types) for (_h, labels), (v, _e) in zip(new, orig, strict=True)]
            if t < args.unchanged:
                records.append({"store": spec.store_id, "kind": "unchanged", "share": 0.0,
                                "flagged": verdict(orig_classes)["drifted"], "broken": False,
                                "damage": 0.0})
            if t >= args.trials:
                continue
            for kind in CHANGES:
                for share in args.shares:
                    k = max(1, round(share * len(new)))
                    chosen = set(rng.sample(range(len(new)), k))
                    classes, newly_wrong = list(orig_classes), 0
                    for i in chosen:
                        html, labels = new[i]
                        changed = change_page(html, kind, truth=labels, types=types)
                        value, error = _run(box, changed)
                        classes[i] = classify(value, error, fields, profiles)
                        right = score_page(labels, value, types)
                        if any(orig_right[i][f] and not right[f] for f in fields):
                            newly_wrong += 1
                    damage = newly_wrong / len(new)
                    records.append({"store": spec.store_id, "kind": kind, "share": share,
                                    "flagged": verdict(classes)["drifted"],
                                    "broken": damage >= args.min_broken, "damage": damage})
    return records


def _pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:5.1f}% ({a}/{b})" if b else "-"


def table(records: list[dict]) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        groups[(r["kind"], r["share"])].append(r)
        if r["kind"] != "unchanged":
            groups[("all changes", r["share"])].append(r)
            groups[("all changes", "all")].append(r)
    header = (f"{'change':<15} {'share':>5}  {'batches':>7}  {'broken':>7}  {'mean damage':>11}  "
              f"{'flagged (all changed)':>22}  {'recall on broken':>18}  {'flagged, not broken':>20}")
    lines = [header, "-" * len(header)]
    order = [*CHANGES, "all changes"]
    for kind in order:
        for key in sorted({s for (k, s) in groups if k == kind}, key=str):
            rows = groups[(kind, key)]
            broken = [r for r in rows if r["broken"]]
            intact = [r for r in rows if not r["broken"]]
            share = key if isinstance(key, str) else f"{key:.0%}"
            lines.append(
                f"{kind:<15} {share:>5}  {len(rows):>7}  {len(broken):>7}  "
                f"{sum(r['damage'] for r in rows) / len(rows):>10.0%}  "
                f"{_pct(sum(r['flagged'] for r in rows), len(rows)):>22}  "
                f"{_pct(sum(r['flagged'] for r in broken), len(broken)):>18}  "
                f"{_pct(sum(r['flagged'] for r in intact), len(intact)):>20}"
            )
    same = groups[("unchanged", 0.0)]
    lines.append(f"{'unchanged':<15} {'-':>5}  {len(same):>7}  {'-':>7}  {'-':>11}  "
                 f"{'false alarms: ' + _pct(sum(r['flagged'] for r in same), len(same)):>22}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=4, help="changed batches per store, change and share")
    parser.add_argument("--unchanged", type=int, default=20, help="unchanged batches per store")
    parser.add_argument("--pages", type=int, default=10, help="new pages per batch")
    parser.add_argument("--shares", default="0.3,0.5,1.0", help="shares of a batch's pages changed")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA)
    parser.add_argument("--min-broken", type=float, default=None,
                        help="share of a batch's pages the change must break to count as broken "
                             "(default: more than --threshold, what the check promises to catch)")
    args = parser.parse_args(argv)
    args.shares = [float(s) for s in args.shares.split(",")]
    if args.min_broken is None:
        args.min_broken = args.threshold / 100 + 1e-9
    stores = read_stores(DATA)
    specs = [s for s in demo.STORES if len(stores.get(s.store_id, [])) >= 4]
    start = time.perf_counter()
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            records += bench_store(spec, stores[spec.store_id], args, Path(tmp))
    print(f"health check: {len(specs)} demo stores, {args.pages} new pages per batch, threshold "
          f"{args.threshold:g} pp, alpha {args.alpha:g}; broken = the change made more than "
          f"{args.min_broken:.0%} of the batch wrong ({time.perf_counter() - start:.0f} s)")
    print(table(records))
    per_store = defaultdict(lambda: [0, 0])
    for r in records:
        if r["broken"]:
            per_store[r["store"]][0] += r["flagged"]
            per_store[r["store"]][1] += 1
    print("\nrecall on broken batches per store: " + ", ".join(
        f"{s}: {_pct(a, b).strip()}" for s, (a, b) in sorted(per_store.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
