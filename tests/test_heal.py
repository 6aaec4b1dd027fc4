"""The heal loop, selection and cascade with a scripted fake model and the real sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoheal import models
from autoheal.cascade import gate, heal_models, lower_rungs
from autoheal.heal import heal_model
from autoheal.models import FakeModel
from autoheal.page import Page
from autoheal.prompts import Templates
from autoheal.samples import build_samples
from autoheal.select import select_best

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Templates.load(ROOT / "prompts/base.md", ROOT / "prompts/first.md", ROOT / "prompts/improve.md")
SANDBOX = {"soft_timeout_s": 2.0, "hard_timeout_s": 5.0, "load_timeout_s": 10.0}

GOOD = '''```python
import re

def extract(html):
    order = re.search(r"Order #(\\w+)", html)
    total = re.search(r"id='sub'>([^<]+)<", html)
    return {"ORDER_ID": order.group(1) if order else None, "SUBTOTAL": total.group(1) if total else None}
```'''
WRONG_SUBTOTAL = GOOD.replace('"SUBTOTAL": total.group(1) if total else None', '"SUBTOTAL": "1.00"')
CRASH = "```python\ndef extract(html):\n    raise ValueError('boom on purpose')\n```"


def make_pages(n=8):
    pages = []
    for i in range(n):
        order, sub = f"K{7000 + i}", f"{20 + i}.{i:02d}"
        html = f"<html><body><p>Order #{order}</p><p>Subtotal <b id='sub'>${sub}</b></p></body></html>"
        pages.append(Page(page_id=f"p{i}", html=html, truth={"ORDER_ID": order, "SUBTOTAL": sub}, row=i + 1))
    return pages


@pytest.fixture
def samples():
    return build_samples(make_pages(), store_id="Shop", fields=["ORDER_ID", "SUBTOTAL"], test_fraction=0.5,
                         min_samples=2)


@pytest.fixture
def fake(monkeypatch):
    holder = {}

    def get_model(name, entry, *, cache_dir=None, retry=None):
        holder["model"] = FakeModel(holder.pop("replies"), name=name)
        return holder["model"]

    monkeypatch.setattr(models, "get_model", get_model)
    return holder


def heal(samples, tmp_path, fake, replies, max_iterations=1, **kw):
    fake["replies"] = list(replies)
    records = heal_model(samples, model="fake", entry={}, templates=TEMPLATES, out_dir=tmp_path / "fake",
                         max_iterations=max_iterations, min_pass_rate=70.0, cache_dir=tmp_path / "cache",
                         sandbox_options=SANDBOX, **kw)
    return records, fake.get("model")


def load(tmp_path, n, split="train"):
    return json.loads((tmp_path / "fake" / f"iter{n}" / f"{split}.json").read_text())


def test_good_first_script_stops_early_without_a_second_call(samples, tmp_path, fake):
    records, model = heal(samples, tmp_path, fake, [GOOD, GOOD])
    assert model.call_count == 1
    assert [r["status"] for r in records] == ["ok", "stopped"]
    assert load(tmp_path, 0)["all_pct"] == 100.0 and load(tmp_path, 0, "test")["all_pct"] == 100.0
    assert load(tmp_path, 1)["status"] == "stopped"
    assert (tmp_path / "fake/iter1/script.py").read_text() == (tmp_path / "fake/iter0/script.py").read_text()


def test_improvement_prompt_shows_train_failures_but_never_test_labels(samples, tmp_path, fake):
    records, model = heal(samples, tmp_path, fake, [WRONG_SUBTOTAL, GOOD], max_iterations=2)
    assert model.call_count == 2
    assert [r["status"] for r in records] == ["ok", "ok", "stopped"]
    first, second = model.calls
    assert "field `SUBTOTAL`: expected" in second.prompt and "got '1.00'" in second.prompt
    assert "id='sub'" in second.prompt or "id=\"sub\"" in second.prompt  # the page fragment
    assert "<<<PAGE" in first.prompt and "untrusted" in first.system
    for page in samples["test"]:
        for value in page["truth"].values():
            assert value not in first.prompt + second.prompt
            assert value not in first.system + second.system
    assert load(tmp_path, 1)["all_pct"] == 100.0


def test_reply_without_code_is_a_recorded_failure_and_reported_to_the_model(samples, tmp_path, fake):
    records, model = heal(samples, tmp_path, fake, ["Sorry, here is no code at all.", GOOD])
    assert load(tmp_path, 0)["status"] in ("no_code", "refused")
    assert load(tmp_path, 0)["all_pct"] == 0.0
    assert "FAILED" in model.calls[1].prompt
    assert (tmp_path / "fake/iter0/script.py").read_text().startswith("# no script:")
    assert records[1]["status"] == "ok"


def test_crashing_script_is_data_with_traceback(samples, tmp_path, fake):
    heal(samples, tmp_path, fake, [CRASH, CRASH])
    doc = load(tmp_path, 0)
    assert doc["errors"] == doc["pages"] and doc["all_pct"] == 0.0
    assert "boom on purpose" in doc["results"][0]["traceback"]
    assert "boom on purpose" in fake["model"].calls[1].prompt


def test_iteration_cache_restores_unchanged_iterations_without_calls(samples, tmp_path, fake):
    heal(samples, tmp_path, fake, [WRONG_SUBTOTAL, GOOD])
    before = {p.name: p.read_bytes() for p in (tmp_path / "fake" / "iter0").iterdir()}
    records, model = heal(samples, tmp_path, fake, [], max_iterations=1)
    assert model.call_count == 0
    assert all(r["restored"] for r in records)
    assert {p.name: p.read_bytes() for p in (tmp_path / "fake" / "iter0").iterdir()} == before


def test_cascade_skip_makes_no_call(samples, tmp_path, fake):
    records, model = heal(samples, tmp_path, fake, [GOOD], skip="cascade: synth healed it")
    assert model is None or model.call_count == 0
    assert all(r["status"] == "cascade_skipped" for r in records)
    assert load(tmp_path, 0)["generation"]["calls"] == 0


def test_selection_prefers_test_correctness_then_latency_never_baseline(samples, tmp_path, fake):
    heal(samples, tmp_path, fake, [WRONG_SUBTOTAL, GOOD])
    base = heal_model(samples, model="baseline", entry=None, templates=TEMPLATES, out_dir=tmp_path / "baseline",
                      max_iterations=0, min_pass_rate=70.0, sandbox_options=SANDBOX)
    assert base[0]["status"] == "ok"
    doc = select_best(samples, {"fake": tmp_path / "fake", "baseline": tmp_path / "baseline"},
                      iterations={"fake": 1, "baseline": 0}, final_dir=tmp_path / "final", min_pass_rate=70.0)
    assert doc["best"]["model"] == "fake" and doc["best"]["iteration"] == 1
    assert doc["status"] == "healed"
    assert doc["baseline"]["model"] == "baseline"
    finals = list((tmp_path / "final").iterdir())
    assert [p.name for p in finals] == [f"final_{samples['slug']}_fake_iter1.py"]
    assert doc["best"]["final_script"] == str(finals[0])
    assert "def extract" in finals[0].read_text()


def test_cascade_rungs_and_gate():
    registry = {
        "synth": {"provider": "synth", "tier": "fast"},
        "cf": {"provider": "anthropic", "tier": "fast"},
        "cc": {"provider": "anthropic", "tier": "capable"},
    }
    assert heal_models(["cf", "cc"], registry, True) == ["synth", "cf", "cc"]
    assert heal_models(["cf", "cc"], registry, False) == ["cf", "cc"]
    assert heal_models(["synth"], registry, True) == ["synth"]
    assert lower_rungs("cc", ["cf", "cc"], registry, True) == ["synth", "cf"]
    assert lower_rungs("cf", ["cf", "cc"], registry, True) == ["synth"]
    assert lower_rungs("cc", ["cf", "cc"], registry, False) == []
    docs = [
        {"model": "synth", "iteration": 0, "status": "ok", "all_pct": 50.0},
        {"model": "synth", "iteration": 1, "status": "ok", "all_pct": 80.0},
    ]
    assert "synth iteration 1 already reached 80.0%" in gate(docs, 70.0)
    assert gate(docs, 90.0) is None
    assert gate([{"model": "x", "iteration": 0, "status": "no_code", "all_pct": 100.0}], 70.0) is None


def test_a_deleted_iteration_file_is_a_missing_candidate_not_a_crash(samples, tmp_path, fake):
    heal(samples, tmp_path, fake, [WRONG_SUBTOTAL, GOOD])
    (tmp_path / "fake" / "iter1" / "script.py").unlink()
    doc = select_best(samples, {"fake": tmp_path / "fake"}, iterations={"fake": 1},
                      final_dir=tmp_path / "final", min_pass_rate=70.0)
    statuses = {r["iteration"]: r["status"] for r in doc["candidates"]}
    assert statuses == {0: "ok", 1: "missing"}
    assert doc["best"]["iteration"] == 0
    assert "--forcerun heal_store" in doc["candidates"][1]["reason"]


# ----------------------------------------------------------- one store, every model, one job
@pytest.fixture
def fleet(monkeypatch):
    """A fake model per name, each with its own default reply; records which were built."""
    built: dict[str, FakeModel] = {}
    replies: dict[str, str] = {}

    def get_model(name, entry, *, cache_dir=None, retry=None):
        built[name] = FakeModel(default=replies[name], name=name)
        return built[name]

    monkeypatch.setattr(models, "get_model", get_model)
    return built, replies


def heal_whole_store(samples, tmp_path, order, gates, rungs=None):
    from autoheal.heal import heal_store

    return heal_store(samples, models={m: {"provider": "fake"} for m in order}, gates=gates,
                      templates=TEMPLATES, store_dir=tmp_path / "store", final_dir=tmp_path / "final",
                      max_iterations=1, min_pass_rate=70.0, rungs=rungs, cache_dir=tmp_path / "cache",
                      sandbox_options=SANDBOX)


def test_heal_store_skips_a_costlier_model_once_a_cheaper_one_healed_train(samples, tmp_path, fleet):
    built, replies = fleet
    replies.update(fast=GOOD, capable=GOOD)
    doc = heal_whole_store(samples, tmp_path, ["fast", "capable"], {"fast": [], "capable": ["fast"]},
                           rungs={"fast": "fast", "capable": "capable"})
    assert built["fast"].call_count == 1 and "capable" not in built  # gated: never even built
    assert doc["best"]["model"] == "fast" and doc["rung"] == "fast" and doc["status"] == "healed"
    statuses = {(r["model"], r["iteration"]): r["status"] for r in doc["candidates"]}
    assert statuses == {("baseline", 0): "ok", ("fast", 0): "ok", ("fast", 1): "stopped",
                        ("capable", 0): "cascade_skipped", ("capable", 1): "cascade_skipped"}
    assert doc["calls_saved"] == 1
    assert [p.name for p in (tmp_path / "final").iterdir()] == [f"final_{samples['slug']}_fast_iter0.py"]


def test_heal_store_runs_the_costlier_model_where_the_cheaper_one_failed(samples, tmp_path, fleet):
    built, replies = fleet
    replies.update(fast=WRONG_SUBTOTAL, capable=GOOD)
    doc = heal_whole_store(samples, tmp_path, ["fast", "capable"], {"fast": [], "capable": ["fast"]})
    assert built["fast"].call_count == 2 and built["capable"].call_count == 1
    assert doc["best"]["model"] == "capable" and doc["calls_saved"] == 0


def test_heal_store_of_a_skipped_store_writes_every_declared_file_and_calls_nothing(tmp_path, fleet):
    built, replies = fleet
    replies.update(fast=GOOD)
    lonely = build_samples(make_pages(1), store_id="Lonely", fields=["ORDER_ID", "SUBTOTAL"],
                           test_fraction=0.5, min_samples=2)
    doc = heal_whole_store(lonely, tmp_path, ["fast"], {})
    assert built == {} and doc["status"] == "skipped" and doc["candidates"] == []
    for model, n in [("baseline", 0), ("fast", 0), ("fast", 1)]:
        test = json.loads((tmp_path / "store" / model / f"iter{n}" / "test.json").read_text())
        assert test["status"] == "skipped" and "min_samples_per_store" in test["reason"]
    assert not (tmp_path / "final").exists() or not list((tmp_path / "final").iterdir())
