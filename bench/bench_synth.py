"""Bench: the offline synthesizer against autoscraper and the naive baseline (prints tables).

For every data file (``../shared/data/*.csv.gz`` (or ``$AUTOHEAL_DATA``) and ``store_data/Store_OCP_Data.csv`` when it
exists) each store is split 50/50 with :func:`autoheal.samples.split_pages`; every extractor
learns from the train half and is scored on the test half:

* ``synth``      -- :func:`autoheal.synth.synthesize`, iteration 0;
* ``synth+heal`` -- one improvement iteration fed with the train failures of iteration 0;
* ``baseline``   -- :func:`autoheal.baseline.baseline_script` (first token after the field name);
* ``autoscraper``-- autoscraper 1.1.14 + beautifulsoup4 4.12.3, run in a subprocess of
  ``.bench-venv`` (or ``$AUTOSCRAPER_PYTHON``) (``build`` on the train pages with the label's surface forms found in
  the page as wanted values, ``get_result_exact`` on test pages; skipped when the venv is absent).

Generated scripts only run in :class:`autoheal.sandbox.Sandbox` (never in this process).
Columns: micro accuracy on test cells with a label (``acc``), the same counting cells without a
label (``acc+empty``: the extractor must return nothing there), share of (store, field) pairs
fully right on test, share of stores whose script crashed or returned nothing on every test
page, the normalised ceiling (labels present in the page), learning time and script latency per
page (median / p95) next to a plain ``lxml.html.fromstring`` parse.

Usage: ``python bench/bench_synth.py [--files NAME ...] [--no-autoscraper]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lxml.html

from autoheal.baseline import baseline_script
from autoheal.samples import field_types, read_stores, split_pages
from autoheal.sandbox import Sandbox
from autoheal.scoring import is_present, page_text, surface_forms, values_match
from autoheal.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
# The shared development data sits beside the project (../shared/data); override with AUTOHEAL_DATA.
DATA = Path(os.environ.get("AUTOHEAL_DATA", ROOT.parent / "shared" / "data"))
DEMO = ROOT / "store_data" / "Store_OCP_Data.csv"
# autoscraper needs its own venv (bs4 4.12.3): python3 -m venv .bench-venv &&
# .bench-venv/bin/pip install autoscraper==1.1.14 beautifulsoup4==4.12.3
BENCH_PY = Path(os.environ.get("AUTOSCRAPER_PYTHON", ROOT / ".bench-venv" / "bin" / "python"))

AUTOSCRAPER_RUNNER = r'''
import json, sys
from autoscraper import AutoScraper
job = json.load(open(sys.argv[1], encoding="utf-8"))
out = []
scraper = AutoScraper()
built = False
for page in job["train"]:
    wanted = {f: forms for f, forms in page["wanted"].items() if forms}
    if not wanted:
        continue
    try:
        scraper.build(html=page["html"], wanted_dict=wanted, update=built)
        built = True
    except Exception:
        pass
for html in job["test"]:
    row = {f: None for f in job["fields"]}
    if built:
        try:
            got = scraper.get_result_exact(html=html, group_by_alias=True)
            for f in job["fields"]:
                if got.get(f):
                    row[f] = str(got[f][0])
        except Exception:
            pass
    out.append(row)
print(json.dumps(out))
'''


def _files(names: list[str] | None) -> list[Path]:
    files = sorted(DATA.glob("*.csv.gz"))
    if DEMO.exists():
        files.append(DEMO)
    if names:
        files = [f for f in files if any(n in f.name for n in names)]
    return files


def _run_script(script: str, pages, tmp: Path, name: str):
    """(values per page or None, latency ms per page) through the sandbox."""
    path = tmp / f"{name}.py"
    path.write_text(script, encoding="utf-8")
    values, lat = [], []
    with Sandbox(path) as box:
        for page in pages:
            result = box.extract(page.html)
            values.append(result.value)
            lat.append(result.latency_ms)
    return values, lat


def _autoscraper(train, test, fields, types, tmp: Path):
    job = {"fields": fields, "test": [p.html for p in test], "train": []}
    for page in train:
        text = page_text(page.html).lower()
        wanted = {}
        for f in fields:
            label = page.truth.get(f)
            forms = [s for s in surface_forms(label, types[f]) if s.lower() in text] if label else []
            wanted[f] = forms
        job["train"].append({"html": page.html, "wanted": wanted})
    path = tmp / "autoscraper_job.json"
    path.write_text(json.dumps(job), encoding="utf-8")
    runner = tmp / "autoscraper_runner.py"
    runner.write_text(AUTOSCRAPER_RUNNER, encoding="utf-8")
    try:
        proc = subprocess.run([str(BENCH_PY), str(runner), str(path)], capture_output=True,
                              text=True, timeout=600)
        return json.loads(proc.stdout)
    except (subprocess.SubprocessError, ValueError):
        return [None] * len(test)


def _failures(train, values, fields, types):
    out = []
    for page, got in zip(train, values, strict=True):
        for f in fields:
            value = (got or {}).get(f)
            if not values_match(page.truth.get(f), value, types[f]):
                out.append({"page_id": page.page_id, "field": f, "expected": page.truth.get(f),
                            "got": value, "error": None, "traceback": None, "fragment": ""})
    return out


class Tally:
    def __init__(self):
        self.ok = self.n = self.ok_all = self.n_all = 0
        self.pairs_ok = self.pairs = 0
        self.dead = self.stores = 0
        self.lat: list[float] = []
        self.learn: list[float] = []

    def add(self, test, values, fields, types, lat=None):
        self.stores += 1
        if all(not v or all(x in (None, "") for x in v.values()) for v in values):
            self.dead += 1
        for f in fields:
            pair_ok = True
            for page, got in zip(test, values, strict=True):
                label = page.truth.get(f)
                good = values_match(label, (got or {}).get(f), types[f])
                self.ok_all += good
                self.n_all += 1
                if label:
                    self.ok += good
                    self.n += 1
                pair_ok &= good
            self.pairs += 1
            self.pairs_ok += pair_ok
        self.lat += lat or []

    def row(self, name: str, ceiling: float, parse_ms: list[float]) -> str:
        pct = lambda a, b: f"{100 * a / b:5.1f}" if b else "  n/a"  # noqa: E731
        lat = ""
        if self.lat:
            q = sorted(self.lat)
            p95 = q[min(len(q) - 1, int(0.95 * len(q)))]
            lat = f"{statistics.median(q):7.1f} {p95:7.1f}"
        else:
            lat = f"{'-':>7} {'-':>7}"
        learn = f"{max(self.learn):6.2f}" if self.learn else f"{'-':>6}"
        ratio = f"{100 * self.ok / self.n / ceiling:5.1f}" if self.n and ceiling else "  n/a"
        return (f"  {name:<12} {pct(self.ok, self.n)} {ratio} {pct(self.ok_all, self.n_all)} "
                f"{pct(self.pairs_ok, self.pairs)} {pct(self.dead, self.stores)} {learn} {lat}")


def bench_file(path: Path, use_autoscraper: bool) -> None:
    stores = read_stores(path)
    tallies = {k: Tally() for k in ("synth", "synth+heal", "baseline", "autoscraper")}
    present = labelled = 0
    parse_ms: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench_synth_") as tmpdir:
        tmp = Path(tmpdir)
        for _store, pages in sorted(stores.items()):
            fields = list(pages[0].truth)
            train, test = split_pages(pages, 0.5)
            if not train or not test:
                continue
            types = field_types(pages, fields)
            for page in test:
                t0 = time.perf_counter()
                lxml.html.fromstring(page.html.encode("utf-8"))
                parse_ms.append(1000 * (time.perf_counter() - t0))
                for f in fields:
                    if page.truth.get(f):
                        labelled += 1
                        present += is_present(page.truth[f], page.html, types[f])
            t0 = time.perf_counter()
            script = synthesize(train, fields, types)
            tallies["synth"].learn.append(time.perf_counter() - t0)
            values, lat = _run_script(script, test, tmp, "synth")
            tallies["synth"].add(test, values, fields, types, lat)
            train_values, _ = _run_script(script, train, tmp, "synth_train")
            failures = _failures(train, train_values, fields, types)
            t0 = time.perf_counter()
            healed = synthesize(train, fields, types, script, failures) if failures else script
            tallies["synth+heal"].learn.append(time.perf_counter() - t0)
            values, lat = _run_script(healed, test, tmp, "healed")
            tallies["synth+heal"].add(test, values, fields, types, lat)
            values, lat = _run_script(baseline_script(fields), test, tmp, "baseline")
            tallies["baseline"].add(test, values, fields, types, lat)
            if use_autoscraper:
                values = _autoscraper(train, test, fields, types, tmp)
                tallies["autoscraper"].add(test, values, fields, types)
    ceiling = present / labelled if labelled else 0.0
    pq = sorted(parse_ms) or [0.0]
    print(f"\n{path.name}: {len(stores)} stores, ceiling {100 * ceiling:.1f}% of {labelled} "
          f"labelled test cells; lxml parse per page median {statistics.median(pq):.1f} ms, "
          f"p95 {pq[min(len(pq) - 1, int(0.95 * len(pq)))]:.1f} ms")
    print(f"  {'extractor':<12} {'acc':>5} {'%ceil':>5} {'acc+e':>5} {'pairs':>5} {'dead':>5} "
          f"{'learn':>6} {'lat_med':>7} {'lat_p95':>7}")
    for name, tally in tallies.items():
        if tally.stores:
            print(tally.row(name, ceiling, parse_ms))
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="*", help="substrings of data file names")
    parser.add_argument("--no-autoscraper", action="store_true")
    args = parser.parse_args(argv)
    use_autoscraper = not args.no_autoscraper and BENCH_PY.exists()
    print("micro accuracy (%) on test cells; latency in ms per page (sandbox round trip)")
    for path in _files(args.files):
        bench_file(path, use_autoscraper)


if __name__ == "__main__":
    main()
