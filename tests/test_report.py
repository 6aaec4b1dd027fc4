"""The HTML report (autoheal.report): content, legibility at 1,000 stores, and a real render in
headless Chromium after a real Snakemake run (the default target builds it)."""

from __future__ import annotations

import base64
import csv
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from snakerun import copy_workflow, run, store_page, write_data

from autoheal.io import atomic_write_json
from autoheal.report import MAX_ROWS, render_report

FIELDS = ["ORDER_ID", "SUBTOTAL"]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def plots(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'class="plot"[^>]*src="data:image/png;base64,([^"]+)"', html)]


def synthetic_run(tmp_path: Path, n: int, *, health: bool = False) -> dict:
    """summary.tsv, candidates.tsv and best.json files of a run with ``n`` stores."""
    summary, cands, bests = [], [], []
    for i in range(n):
        slug = f"store-{i:04d}"
        skipped = i % 97 == 5
        acc = None if skipped else float((i * 37) % 101)
        status = "skipped" if skipped else ("healed" if acc >= 70 else "below_target")
        script = None if skipped else f"results/final/final_{slug}_synth_iter1.py"
        summary.append({
            "store_id": f"Store {i}", "slug": slug, "samples": 10, "train": 5, "test": 5,
            "model": None if skipped else "synth", "iteration": None if skipped else 1,
            "ORDER_ID_pct": acc, "SUBTOTAL_pct": acc, "all_pct": acc, "fields_correct": 1,
            "fields_total": 2, "latency_ms": None if skipped else 1 + (i % 50) * 0.7,
            "status": status, "script": script, "baseline_all_pct": 0.0, "train_all_pct": acc,
            "rung": "synth", "calls": i % 3, "calls_saved": 1, "input_tokens": 100,
            "output_tokens": 50, "cost_usd": 0.01 * (i % 3), "duplicates": 0,
            "reason": "1 distinct page(s) < min_samples_per_store=2" if skipped else None,
        })  # fmt: skip
        if not skipped:
            for model in ("synth", "claude_fast", "baseline"):
                for it in (0, 1) if model != "baseline" else (0,):
                    cands.append({
                        "store_id": f"Store {i}", "slug": slug, "model": model, "iteration": it,
                        "status": "ok", "train_all_pct": acc, "test_all_pct": (acc or 0) - 10 * (1 - it),
                        "calls": 1 if model == "claude_fast" else 0, "cached": False,
                        "input_tokens": 10, "output_tokens": 5,
                        "cost_usd": 0.002 if model == "claude_fast" else 0.0,
                    })  # fmt: skip
        doc = {"store_id": f"Store {i}", "fields": FIELDS, "presence": {} if skipped else {
            "train": {f: {"labelled": 5, "present": 5 - (i % 2), "pct": 90.0} for f in FIELDS},
            "test": {f: {"labelled": 5, "present": 5, "pct": 100.0} for f in FIELDS}}}
        path = tmp_path / "stores" / slug / "best.json"
        atomic_write_json(path, doc)
        bests.append(path)
    out = {"summary": tmp_path / "summary.tsv", "candidates": tmp_path / "candidates.tsv",
           "best_paths": bests, "health": None}
    for key, rows in (("summary", summary), ("candidates", cands)):
        with open(out[key], "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t")
            writer.writeheader()
            writer.writerows(rows)
    if health:
        out["health"] = tmp_path / "health.tsv"
        with open(out["health"], "w", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t")
            writer.writerow(["store_id", "slug", "status", "pages", "health", "health_ref",
                             "ORDER_ID_health", "SUBTOTAL_health", "reason", "next_step", "heal_command"])
            writer.writerow(["Store 1", "store-0001", "drifted", 6, 0, 100, 100, 0, "SUBTOTAL: health 0%",
                             "label a few pages", "snakemake -j 8 results/stores/store-0001/best.json"])
            writer.writerow(["Store 2", "store-0002", "healthy", 6, 100, 100, 100, 100, "", "", ""])
            writer.writerow(["Nobody", "nobody", "unknown_store", 2, "", "", "", "", "not in the training data", "", ""])
    return out


def test_small_report_has_every_section_and_links(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # script paths are relative to the workflow's directory
    run_ = synthetic_run(tmp_path, 12, health=True)
    out = tmp_path / "results" / "report.html"
    render_report(**run_, out=out)
    html = out.read_text()
    for section in ("accuracy", "iterations", "cost", "latency", "skipped", "presence", "health", "scripts"):
        assert f'id="{section}"' in html
    images = plots(html)
    assert len(images) == 7  # accuracy x2, iterations, cost, latency, presence, health
    assert all(len(img) > 5000 for img in images)
    assert html.count('href="final/final_store-') == 11  # one of 12 is skipped; relative links
    assert "snakemake -j 8 results/stores/store-0001/best.json" in html
    assert "unknown_store" in html and "drifted" in html


def test_report_without_apply_data_says_how_to_enable_it(tmp_path):
    run_ = synthetic_run(tmp_path, 3)
    render_report(**run_, out=tmp_path / "r.html")
    assert "set the config key <code>apply_data</code>" in (tmp_path / "r.html").read_text()


def test_report_stays_legible_with_1000_stores(tmp_path):
    run_ = synthetic_run(tmp_path, 1000, health=True)
    out = tmp_path / "report.html"
    render_report(**run_, out=out)
    html = out.read_text()
    images = plots(html)
    # per-store plots show the worst MAX_ROWS stores, plus an aggregate over all of them
    assert f"the {MAX_ROWS} lowest of" in html and "accuracy band." in html
    assert f"the {MAX_ROWS} slowest of" in html
    for img in images:
        width, height = _png_size(img)
        assert width <= 1500 and height <= 60 + 32 * (MAX_ROWS + 8), (width, height)
    assert len(images) >= 9
    assert html.count("final_store-") >= 990  # every final script is still linked
    assert len(html) < 5_000_000


# --------------------------------------------------------------------------------------------
# A real run and a real browser
# --------------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1"]  # fmt: skip
WIDTH = 1280


@pytest.fixture(scope="module")
def built_report(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("report"))
    write_data(work / "data.csv", {"alpha": 8, "Beta Shop/EU": 6, "solo": 1})
    with open(work / "new.csv", "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["STORE_ID", "RAW_DOM"])
        writer.writerows(("alpha", store_page("alpha", 30 + i)[1]) for i in range(4))
    config = (work / "config.yaml").read_text().replace("data: store_data/Store_OCP_Data.csv", "data: data.csv")
    (work / "config.yaml").write_text(config.replace('apply_data: ""', "apply_data: new.csv"))
    run(work)  # the default target: summary, report and (apply_data is set) the apply targets
    return work / "results" / "report.html"


@pytest.mark.slow
def test_default_target_builds_the_report(built_report):
    html = built_report.read_text()
    assert len(plots(html)) == 7
    assert "final_alpha_synth_iter" in html and "solo" in html and "Beta Shop/EU" in html
    assert (built_report.parent / "health.tsv").exists()


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run does)")
def test_report_renders_in_headless_chromium_with_every_plot_visible(built_report, tmp_path):
    url = built_report.resolve().as_uri()
    dom = _chromium([f"--window-size={WIDTH},900", "--virtual-time-budget=5000", "--dump-dom", url],
                    tmp_path / "profile1")
    assert dom.returncode == 0, dom.stderr[-2000:]
    boxes = [tuple(map(int, b.split(","))) for b in re.findall(r'data-box="([\d,]+)"', dom.stdout)]
    natural = re.findall(r'data-natural="(\d+)x(\d+)"', dom.stdout)
    loaded = int(re.search(r'data-plots-loaded="(\d+)"', dom.stdout).group(1))
    height = int(re.search(r'data-page-height="(\d+)"', dom.stdout).group(1))
    assert len(boxes) == len(natural) == loaded == 7  # every plot decoded by the browser
    assert all(int(w) > 300 and int(h) > 150 for w, h in natural)

    shot = tmp_path / "report.png"
    proc = _chromium([f"--window-size={WIDTH},{height}", f"--screenshot={shot}", url], tmp_path / "profile2")
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.width == WIDTH and image.height >= height - 5
    for x, y, w, h in boxes:
        assert w > 300 and h > 150 and y + h <= image.height, (x, y, w, h)
        crop = image.crop((x + 5, y + 5, x + w - 5, y + h - 5))
        colours = crop.getcolors(maxcolors=1 << 24)  # [(count, (r, g, b)), ...]
        ink = sum(n for n, rgb in colours if min(rgb) < 200) / (crop.width * crop.height)
        assert len(colours) > 20, f"plot at {(x, y, w, h)} looks blank ({len(colours)} colours)"
        assert ink > 0.01, f"plot at {(x, y, w, h)} has almost no ink ({ink:.3f})"
