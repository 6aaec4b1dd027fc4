"""The cost cascade end to end: synth first, the fast tier only where synth fails, the capable
tier only where the fast tier fails too. Real Snakemake, real SDK clients, fake servers.

Three stores: ``easy`` (synth heals it), ``summed`` (the subtotal is not printed; only a script
that adds the item prices gets it: the fast model's scripted reply does) and ``hard`` (the fast
model's reply is useless; the capable model's reply adds the prices).
"""

from __future__ import annotations

import csv

import pytest
import yaml
from fakeservers import FakeServer, ok
from snakerun import ROOT, copy_workflow, run

pytestmark = pytest.mark.slow

SUM_SCRIPT = """```python
import re

def extract(html):
    order = re.search(r"Order #(\\w+)", html)
    prices = re.findall(r"class='price'>\\$([\\d.]+)<", html)
    total = sum(float(p) for p in prices)
    return {"ORDER_ID": order.group(1) if order else None,
            "SUBTOTAL": f"{total:.2f}" if prices else None}
```"""
USELESS = "```python\ndef extract(html):\n    return {'ORDER_ID': None, 'SUBTOTAL': None}\n```"


def page(store: str, i: int) -> list[str]:
    prices = [1.25 * (i + k + 1) for k in range(1 + i % 3)]
    items = "".join(f"<li>Thing {k} <span class='price'>${p:.2f}</span></li>" for k, p in enumerate(prices))
    order = f"{store[0].upper()}{500 + i}"
    shown = f"<p>Subtotal: <b id='sub'>${sum(prices):.2f}</b></p>" if store == "easy" else ""
    html = f"<html><body><h2>Order #{order}</h2><ul>{items}</ul>{shown}</body></html>"
    return [store, html, order, f"{sum(prices):.2f}"]


def test_cascade_calls_each_rung_only_where_needed(tmp_path):
    work = copy_workflow(tmp_path / "project")
    with open(work / "data.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["STORE_ID", "RAW_DOM", "GROUND_TRUTH_ORDER_ID", "GROUND_TRUTH_SUBTOTAL"])
        for store in ("easy", "summed", "hard"):
            writer.writerows(page(store, i) for i in range(8))
    fast, capable = FakeServer("openai").start(), FakeServer("anthropic").start()
    try:
        # Stores are told apart by their order-id prefix, which the first prompt shows.
        fast.responder = lambda prompt: ok(SUM_SCRIPT if '"S5' in prompt or "'S5" in prompt else USELESS)
        capable.responder = lambda prompt: ok(SUM_SCRIPT)
        registry = yaml.safe_load((ROOT / "config.yaml").read_text())["model_registry"]
        config = {
            "data": "data.csv",
            "models": ["openai_fast", "claude"],
            "max_iterations": 0,
            "model_registry": {
                "openai_fast": dict(registry["openai_fast"], base_url=fast.base_url, max_attempts=1),
                "claude": dict(registry["claude"], base_url=capable.base_url, max_attempts=1),
            },
        }
        (work / "cascade.yaml").write_text(yaml.safe_dump(config))
        keys = {"OPENAI_API_KEY": "k1", "ANTHROPIC_API_KEY": "k2"}
        run(work, "results/summary.tsv", "--configfile", "cascade.yaml", env=keys)
    finally:
        fast.stop()
        capable.stop()

    with open(work / "results" / "summary.tsv", newline="") as handle:
        summary = {r["store_id"]: r for r in csv.DictReader(handle, delimiter="\t")}
    assert {s: (r["model"], r["rung"], r["status"]) for s, r in summary.items()} == {
        "easy": ("synth", "synth", "healed"),
        "summed": ("openai_fast", "fast", "healed"),
        "hard": ("claude", "capable", "healed"),
    }
    # easy: no call; summed: one fast call, capable skipped; hard: fast then capable.
    assert fast.count == 2 and capable.count == 1
    assert [summary[s]["calls"] for s in ("easy", "summed", "hard")] == ["0", "1", "2"]
    assert [summary[s]["calls_saved"] for s in ("easy", "summed", "hard")] == ["2", "1", "0"]
    with open(work / "results" / "candidates.tsv", newline="") as handle:
        cand = {(r["store_id"], r["model"]): r["status"] for r in csv.DictReader(handle, delimiter="\t")}
    assert cand[("easy", "openai_fast")] == "cascade_skipped"
    assert cand[("summed", "claude")] == "cascade_skipped"
    assert cand[("hard", "claude")] == "ok"
