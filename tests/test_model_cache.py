"""The content-addressed reply cache (autoheal.models.cache) and the scripted FakeModel."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from dataclasses import replace
from pathlib import Path

import pytest

from autoheal.models import (
    CachedModel,
    FakeModel,
    GenerationRequest,
    ModelConfigError,
    Reply,
    ReplyCache,
    cache_key,
    get_model,
)
from autoheal.models.cache import CACHE_FORMAT, canonical_json

CODE = "```python\ndef extract(html):\n    return {}\n```"
REPLY = Reply(text=CODE, script="def extract(html):\n    return {}\n", status="ok", reason=None,
              input_tokens=10, output_tokens=20, cost_usd=0.00033, latency_ms=12.5, attempts=2)


def req(prompt: str = "p", system: str = "s") -> GenerationRequest:
    return GenerationRequest(model="fake", prompt=prompt, system=system)


def test_key_is_sha256_of_canonical_json() -> None:
    material = {"provider": "openai", "model": "gpt-5", "params": {"temperature": 1.0,
                                                                     "max_output_tokens": 10},
                "system": "s", "prompt": "p ü"}
    reordered = dict(reversed(list(material.items())))
    assert cache_key(material) == cache_key(reordered)
    expected = hashlib.sha256(canonical_json({"v": CACHE_FORMAT, **material}).encode()).hexdigest()
    assert cache_key(material) == expected
    assert canonical_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
    for change in ({"prompt": "p  ü"}, {"system": ""}, {"model": "gpt-5-mini"},
                   {"params": {"temperature": 0.0, "max_output_tokens": 10}}):
        assert cache_key({**material, **change}) != cache_key(material)


def test_put_get_roundtrip_sharded_and_atomic(tmp_path: Path) -> None:
    cache = ReplyCache(tmp_path)
    key = cache_key({"prompt": "x"})
    assert cache.get(key) is None
    path = cache.put(key, REPLY, provider="openai", model="gpt-5")
    assert path == tmp_path / key[:2] / f"{key}.json"
    assert cache.get(key) == REPLY
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left
    record = json.loads(path.read_text())
    assert record["provider"] == "openai" and record["reply"]["cached"] is False


def test_unreadable_entries_are_misses(tmp_path: Path) -> None:
    cache = ReplyCache(tmp_path)
    key = cache_key({"prompt": "y"})
    cache.put(key, REPLY)
    cache.path(key).write_text("{not json")
    assert cache.get(key) is None
    cache.path(key).write_text(json.dumps({"v": CACHE_FORMAT, "key": "other", "reply": {}}))
    assert cache.get(key) is None


def _writer(root: str, n: int) -> None:
    cache = ReplyCache(root)
    for i in range(n):
        cache.put(cache_key({"shared": True}), replace(REPLY, latency_ms=float(i)))
        cache.put(cache_key({"own": i}), REPLY)


def test_concurrent_writers_leave_valid_entries(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), 30)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cache = ReplyCache(tmp_path)
    assert cache.get(cache_key({"shared": True})).status == "ok"
    files = list(tmp_path.rglob("*"))
    assert not [f for f in files if f.name.endswith(".tmp")]
    assert len([f for f in files if f.suffix == ".json"]) == 31


def test_cached_model_hit_reports_original_accounting(tmp_path: Path) -> None:
    fake = FakeModel([REPLY, REPLY], entry={})
    model = CachedModel(fake, ReplyCache(tmp_path))
    first = model.generate(req())
    second = model.generate(req())
    assert fake.call_count == 1
    assert first == REPLY
    assert second == replace(REPLY, cached=True, attempts=0)
    model.generate(req(system="other system"))
    assert fake.call_count == 2


def test_cached_model_stores_failures_but_not_errors(tmp_path: Path) -> None:
    error = Reply("", None, "error", "server error (HTTP 500)")
    refused = Reply("no", None, "refused", "model refused: no")
    fake = FakeModel([error, refused, "never used"])
    model = CachedModel(fake, ReplyCache(tmp_path))
    assert model.generate(req()).status == "error"
    assert model.generate(req()).status == "refused"
    hit = model.generate(req())
    assert hit.status == "refused" and hit.cached
    assert fake.call_count == 2


def test_fake_model_queue_history_and_default() -> None:
    fake = FakeModel([CODE, "just words", lambda r: f"```\n# {r.prompt}\nx = 1\n```"],
                     entry={"price_input_per_mtok": 1.0, "price_output_per_mtok": 2.0})
    first = fake.generate(req("abcd" * 10, system=""))
    assert first.status == "ok" and first.script.startswith("def extract")
    assert (first.input_tokens, first.output_tokens) == (10, len(CODE) // 4)
    assert first.cost_usd == pytest.approx((10 * 1.0 + first.output_tokens * 2.0) / 1e6)
    assert fake.generate(req()).status == "no_code"
    assert fake.generate(req("hello")).script == "# hello\nx = 1\n"
    exhausted = fake.generate(req())
    assert exhausted.status == "error" and "exhausted" in exhausted.reason
    assert [c.prompt for c in fake.calls][-2:] == ["hello", "p"]
    fake.push(ModelConfigError("missing ANTHROPIC_API_KEY"))
    with pytest.raises(ModelConfigError):
        fake.generate(req())
    fake.default = CODE
    assert fake.generate(req()).status == "ok"


def test_fake_provider_through_the_registry(tmp_path: Path) -> None:
    model = get_model("f", {"provider": "fake", "replies": [CODE]}, cache_dir=tmp_path)
    assert isinstance(model, FakeModel)  # never cached: a scripted queue must be consumed
    assert model.generate(req()).status == "ok"
    assert model.generate(req()).status == "error"
    assert not any(tmp_path.iterdir())
