"""Benchmark of the sandbox runner, per tier (prints a table; no assertions).

Why this shape: the sandbox sits on the hot path of every heal iteration, so its cost is
measured against the thing it wraps -- the same ``extract`` called in-process on the same
~50 KB pages -- rather than in absolute terms.  Per tier it reports:

* worker start: ``Sandbox(...)`` construction (spawn, imports, confinement, script load);
* per-page overhead: sandbox round trip minus the in-process time of the same page
  (median and p95 over all samples; goal for tier A: median < 2 ms);
* hard-timeout restart: wall time of a page that ignores SIGALRM beyond the hard timeout, plus
  the restart the next page pays.

Pages: ``../shared/data/*.csv.gz`` (or ``$AUTOHEAL_DATA``) if present, else ``store_data/*.csv``, else generated.
Run: ``.venv/bin/python bench/bench_sandbox.py [--samples 150] [--tiers A,B,C]``.
"""

from __future__ import annotations

import argparse
import glob
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AUTOHEAL_DATA", ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(ROOT / "src"))

from autoheal.sandbox import MAX_TIER_ENV, Sandbox, SandboxUnavailable, probe_report  # noqa: E402

EXTRACTOR = """
import re
from lxml import html as lxml_html

def extract(html):
    doc = lxml_html.fromstring(html)
    title = doc.findtext(".//title") or ""
    order = re.search(r"#\\s*(\\d{4,})", html)
    money = re.findall(r"\\$\\s?([\\d,]+\\.\\d\\d)", html)
    links = len(doc.xpath("//a"))
    return {"TITLE": title.strip(), "ORDER_ID": order.group(1) if order else None,
            "TOTAL": money[-1] if money else None, "LINKS": links}
"""

SPINNER = """
import signal
def extract(html):
    if html == "spin":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        while True:
            pass
    return {"A": html}
"""


def load_pages(limit: int = 30) -> tuple[list[str], str]:
    for pattern in (str(SHARED / "*.csv.gz"), str(ROOT / "store_data" / "*.csv")):
        files = sorted(glob.glob(pattern))
        if not files:
            continue
        from autoheal.samples import read_stores

        pages = []
        for path in files:
            for store_pages in read_stores(path).values():
                pages += [p.html for p in store_pages if 20_000 <= len(p.html) <= 120_000]
        if pages:
            step = max(1, len(pages) // limit)
            return pages[::step][:limit], pattern
    rows = "".join(
        f"<tr><td><a href='/p/{i}'>Item {i}</a></td><td>${i}.99</td></tr>" for i in range(700)
    )
    page = (
        f"<html><head><title>Order #123456</title></head><body><table>{rows}</table></body></html>"
    )
    return [page] * limit, "generated"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def in_process(script: Path, pages: list[str], rounds: int) -> dict[int, list[float]]:
    namespace: dict = {"__name__": "bench_script"}
    exec(compile(script.read_text(), str(script), "exec"), namespace)  # trusted bench script
    extract = namespace["extract"]
    times: dict[int, list[float]] = {i: [] for i in range(len(pages))}
    for _ in range(rounds):
        for i, page in enumerate(pages):
            start = time.perf_counter()
            extract(page)
            times[i].append((time.perf_counter() - start) * 1000)
    return times


def bench_tier(
    tier: str, script: Path, spinner: Path, pages: list[str], rounds: int, base: dict
) -> dict | str:
    os.environ[MAX_TIER_ENV] = tier
    starts = []
    try:
        for _ in range(5):
            t0 = time.perf_counter()
            box = Sandbox(script, min_tier=tier)
            starts.append((time.perf_counter() - t0) * 1000)
            box.close()
    except SandboxUnavailable:
        return probe_report()["reasons"].get(tier, "unavailable")
    latencies, overheads = [], []
    with Sandbox(script, min_tier=tier) as box:
        for page in pages[:3]:
            box.extract(page)  # warm up
        for _ in range(rounds):
            for i, page in enumerate(pages):
                result = box.extract(page)
                assert result.error_kind is None, result.error
                latencies.append(result.latency_ms)
                overheads.append(result.latency_ms - statistics.median(base[i]))
    restarts = []
    hard = 0.2
    with Sandbox(spinner, min_tier=tier, soft_timeout_s=0.1, hard_timeout_s=hard) as box:
        box.extract("warm")
        normal = statistics.median(box.extract("x").latency_ms for _ in range(20))
        for _ in range(5):
            t0 = time.perf_counter()
            box.extract("spin")
            killed = (time.perf_counter() - t0) * 1000 - hard * 1000
            t1 = time.perf_counter()
            box.extract("x")
            restarts.append(killed + (time.perf_counter() - t1) * 1000 - normal)
    return {
        "start": statistics.median(starts),
        "lat_med": statistics.median(latencies),
        "lat_p95": pct(latencies, 0.95),
        "ovh_med": statistics.median(overheads),
        "ovh_p95": pct(overheads, 0.95),
        "restart": statistics.median(restarts),
        "n": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=150, help="pages per tier (default 150)")
    parser.add_argument("--tiers", default="A,B,C")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # tier C warns on every Sandbox; noise here
    pages, source = load_pages()
    rounds = max(1, args.samples // len(pages))
    with tempfile.TemporaryDirectory() as tmp:
        script, spinner = Path(tmp) / "extractor.py", Path(tmp) / "spinner.py"
        script.write_text(EXTRACTOR)
        spinner.write_text(SPINNER)
        base = in_process(script, pages, rounds + 1)
        flat = [t for ts in base.values() for t in ts]
        size = statistics.median(len(p) for p in pages) / 1024
        print(
            f"pages: {len(pages)} from {source}, median {size:.0f} KB; {rounds * len(pages)} samples per tier"
        )
        print(
            f"in-process extract: median {statistics.median(flat):.2f} ms, p95 {pct(flat, 0.95):.2f} ms"
        )
        print()
        header = (
            "tier",
            "worker start ms",
            "round trip med/p95 ms",
            "overhead med/p95 ms",
            "hard-timeout restart ms",
        )
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        saved = os.environ.get(MAX_TIER_ENV)
        try:
            for tier in args.tiers.split(","):
                row = bench_tier(tier.strip(), script, spinner, pages, rounds, base)
                if isinstance(row, str):
                    print(f"| {tier} | unavailable: {row} | | | |")
                    continue
                print(
                    f"| {tier} | {row['start']:.0f} | {row['lat_med']:.2f} / {row['lat_p95']:.2f} | "
                    f"{row['ovh_med']:.2f} / {row['ovh_p95']:.2f} | {row['restart']:.0f} |"
                )
        finally:
            if saved is None:
                os.environ.pop(MAX_TIER_ENV, None)
            else:
                os.environ[MAX_TIER_ENV] = saved


if __name__ == "__main__":
    main()
