"""End to end: real Snakemake, real SDK clients, fake vendor servers on 127.0.0.1.

A small copy of the demo data runs with ``synth``, ``claude_fast``, ``openai_fast`` and
``gemini`` (cascade off, so every model runs). The fake servers answer each store's prompt with
a real, working script (what synth writes for that store, tagged with the vendor), so the
summary shows all four models. Canary API keys are in the environment the whole time: no file
the run writes may contain them.
"""

from __future__ import annotations

import csv
import shutil

import pytest
import yaml
from fakeservers import FakeServer, ok
from snakerun import ROOT, copy_workflow, run

from autoheal.samples import build_samples, read_stores
from autoheal.synth import synthesize

pytestmark = pytest.mark.slow

CANARIES = {
    "ANTHROPIC_API_KEY": "fake-anthropic-CANARY-7f3e9a1b2c",
    "OPENAI_API_KEY": "fake-openai-CANARY-4d5e6f7a8b",
    "GEMINI_API_KEY": "gemini-CANARY-1a2b3c4d5e",
}
MODELS = {"claude_fast": "anthropic", "openai_fast": "openai", "gemini": "gemini"}
STORES = ["brightleaf_garden", "sundial_crafts", "tidewater_books"]


def small_demo(path):
    stores = read_stores(ROOT / "store_data" / "Store_OCP_Data.csv")
    fields = ["ORDER_ID", "SUBTOTAL", "TOTAL", "ORDER_DATE"]
    scripts = {}
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["STORE_ID", "RAW_DOM", *[f"GROUND_TRUTH_{f}" for f in fields]])
        for store in STORES:
            pages = stores[store][:8]
            for p in pages:
                writer.writerow([store, p.html, *[p.truth[f] or "" for f in fields]])
            doc = build_samples(pages, store_id=store, fields=fields, test_fraction=0.5, min_samples=2)
            from autoheal.page import Page

            train = [Page.from_json(p) for p in doc["train"]]
            marker = train[0].truth["ORDER_ID"]  # shown in the first prompt's field table
            scripts[marker] = synthesize(train, fields, doc["types"])
    return scripts


def responder(vendor, scripts):
    def answer(prompt: str):
        for marker, script in scripts.items():
            if marker in prompt:
                return ok(f"Here is the script.\n\n```python\n# written by {vendor}\n{script}\n```\n")
        return ok("I could not find the store in this prompt.")

    return answer


@pytest.fixture
def servers():
    started = {v: FakeServer(v).start() for v in set(MODELS.values())}
    yield started
    for server in started.values():
        server.stop()


def test_three_vendors_next_to_synth_with_cache_accounting_and_no_key_leak(tmp_path, servers, monkeypatch):
    work = copy_workflow(tmp_path / "project")
    scripts = small_demo(work / "data.csv")
    registry = yaml.safe_load((ROOT / "config.yaml").read_text())["model_registry"]
    overrides = {"data": "data.csv", "models": ["synth", *MODELS], "cascade": False, "model_registry": {}}
    for model, vendor in MODELS.items():
        servers[vendor].responder = responder(vendor, scripts)
        entry = dict(registry[model], base_url=servers[vendor].base_url, max_attempts=2, retry_base_delay_s=0.01)
        overrides["model_registry"][model] = entry
    (work / "e2e.yaml").write_text(yaml.safe_dump(overrides))
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)

    proc = run(work, "results/summary.tsv", "--configfile", "e2e.yaml", env=dict(CANARIES))
    with open(work / "results" / "candidates.tsv", newline="") as handle:
        cand = list(csv.DictReader(handle, delimiter="\t"))
    assert {r["model"] for r in cand} == {"synth", "baseline", *MODELS}
    for model in MODELS:
        first = [r for r in cand if r["model"] == model and r["iteration"] == "0"]
        assert len(first) == len(STORES)
        assert all(float(r["test_all_pct"]) >= 70 for r in first), first
        assert all(float(r["cost_usd"]) > 0 and int(r["calls"]) == 1 for r in first)
    calls = {v: s.count for v, s in servers.items()}
    assert calls == {"anthropic": 3, "openai": 3, "gemini": 3}  # iteration 1 stopped early
    assert "Model calls: 9" in proc.stdout

    # Every request carried the key in the vendor's header; no file of the run contains it.
    assert servers["gemini"].requests[0].headers["x-goog-api-key"] == CANARIES["GEMINI_API_KEY"]
    leaks = []
    for path in work.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            leaks += [(str(path), k) for k, v in CANARIES.items() if v.encode() in data]
    assert leaks == []

    # A run after deleting results/ (and the iteration cache) makes zero model calls: replies
    # come from the content-addressed reply cache.
    shutil.rmtree(work / "results")
    shutil.rmtree(work / ".cache" / "autoheal" / "iterations")
    run(work, "results/summary.tsv", "--configfile", "e2e.yaml", env=dict(CANARIES))
    assert {v: s.count for v, s in servers.items()} == calls
    with open(work / "results" / "summary.tsv", newline="") as handle:
        summary = list(csv.DictReader(handle, delimiter="\t"))
    assert len(summary) == len(STORES) and all(r["calls"] == "0" for r in summary)


def test_missing_key_is_one_line_naming_the_variable(tmp_path, monkeypatch):
    work = copy_workflow(tmp_path / "project")
    for name in CANARIES:
        monkeypatch.delenv(name, raising=False)
    data = ROOT / "store_data" / "Store_OCP_Data.csv"
    proc = run(work, "-n", "results/summary.tsv", "--config", "models=[openai_fast]", f"data={data}", check=False)
    assert proc.returncode != 0
    assert "OPENAI_API_KEY" in proc.stdout + proc.stderr
