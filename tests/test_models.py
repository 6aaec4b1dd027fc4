"""autoheal.models backends against fake vendor servers on 127.0.0.1 (real SDK clients).

Parametrized over anthropic/openai/gemini (the ``fake_api`` fixture) wherever the behaviour
must be the same. Back-off is shortened through the registry entry so the file runs in seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
from fakeservers import VENDORS, drop, error, garbage, hang, ok, refusal, truncated

from autoheal.models import (
    DEFAULT_REGISTRY,
    GenerationRequest,
    ModelConfigError,
    Reply,
    RetryPolicy,
    get_model,
    missing_keys,
    validate_entry,
    validate_registry,
)
from autoheal.models.retry import classify, retry_after

KEYS = {
    "ANTHROPIC_API_KEY": "fake-anthropic-TESTKEY-anthropic-0123456789",
    "OPENAI_API_KEY": "fake-TESTKEY-openai-0123456789",
    "GEMINI_API_KEY": "AIza-TESTKEY-gemini-0123456789",
}
KEY_OF = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY", "gemini": "GEMINI_API_KEY"}
VENDOR_MODEL = {"anthropic": "claude-haiku-4-5", "openai": "gpt-5-mini", "gemini": "gemini-2.5-flash"}
PROMPT = "Write extract(html) for ORDER_ID.\n<page>...</page>"
SYSTEM = "You write Python extraction scripts."


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test keys only; no CA, proxy or base-URL variables from the machine."""
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL",
                "ANTHROPIC_PROFILE", "ANTHROPIC_CUSTOM_HEADERS", "OPENAI_API_KEY",
                "OPENAI_BASE_URL", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL",
                "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for var, value in KEYS.items():
        monkeypatch.setenv(var, value)


def entry_for(server, **overrides) -> dict:
    entry = {
        "provider": server.vendor,
        "model": VENDOR_MODEL[server.vendor],
        "tier": "fast",
        "max_output_tokens": 1024,
        "temperature": 0.2,
        "price_input_per_mtok": 3.0,
        "price_output_per_mtok": 15.0,
        "base_url": server.base_url,
        "timeout_s": 5.0,
        "max_attempts": 3,
        "retry_base_delay_s": 0.01,
        "retry_max_delay_s": 0.05,
        "retry_max_total_s": 10.0,
    }
    entry.update(overrides)
    return entry


def request(prompt: str = PROMPT, name: str = "m") -> GenerationRequest:
    return GenerationRequest(model=name, prompt=prompt, system=SYSTEM, store_id="s1",
                             fields=("ORDER_ID",))


def generate(server, cache_dir=None, prompt: str = PROMPT, **overrides) -> Reply:
    return get_model("m", entry_for(server, **overrides), cache_dir=cache_dir).generate(
        request(prompt))


# ----------------------------------------------------------------------------------------------
# Success, parameters, accounting
# ----------------------------------------------------------------------------------------------


def test_success_sends_prompt_params_and_key(fake_api) -> None:
    reply = generate(fake_api)
    assert reply.status == "ok" and reply.reason is None
    assert "def extract(html):" in reply.script
    assert reply.attempts == 1 and not reply.cached and reply.latency_ms > 0
    assert fake_api.count == 1
    rec = fake_api.requests[0]
    body = json.dumps(rec.body)
    assert "Write extract(html) for ORDER_ID." in body and SYSTEM in body
    key = KEYS[KEY_OF[fake_api.vendor]]
    if fake_api.vendor == "anthropic":
        assert rec.body["model"] == "claude-haiku-4-5" and rec.body["max_tokens"] == 1024
        assert rec.body["system"] == SYSTEM and rec.body["temperature"] == 0.2
        assert key in (rec.headers.get("authorization", "") + rec.headers.get("x-api-key", ""))
    elif fake_api.vendor == "openai":
        assert rec.body["model"] == "gpt-5-mini" and rec.body["max_completion_tokens"] == 1024
        assert rec.body["messages"][0] == {"role": "system", "content": SYSTEM}
        assert rec.headers["authorization"] == f"Bearer {key}"
    else:
        assert rec.path == "/v1beta/models/gemini-2.5-flash:generateContent"
        assert rec.body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 1024}
        assert rec.headers["x-goog-api-key"] == key


def test_cost_arithmetic_from_vendor_usage(fake_api) -> None:
    fake_api.push(ok(input_tokens=12_345, output_tokens=678))
    reply = generate(fake_api, price_input_per_mtok=1.25, price_output_per_mtok=10.0)
    assert (reply.input_tokens, reply.output_tokens) == (12_345, 678)
    assert reply.cost_usd == pytest.approx(12_345 * 1.25 / 1e6 + 678 * 10.0 / 1e6)


def test_temperature_null_is_not_sent(fake_api) -> None:
    generate(fake_api, temperature=None)
    assert "temperature" not in json.dumps(fake_api.requests[0].body)


# ----------------------------------------------------------------------------------------------
# Faults: retried, bounded, or failing fast
# ----------------------------------------------------------------------------------------------


def test_429_with_retry_after_then_success(fake_api) -> None:
    fake_api.push(error(429, "slow down", retry_after=0.3), ok())
    start = time.monotonic()
    reply = generate(fake_api)
    assert reply.status == "ok" and reply.attempts == 2
    assert fake_api.count == 2
    assert time.monotonic() - start >= 0.3  # Retry-After honoured (base back-off is 0.01 s)


def test_500_until_retries_run_out(fake_api) -> None:
    fake_api.default = error(500, "boom")
    reply = generate(fake_api, max_attempts=3)
    assert reply.status == "error" and reply.script is None and reply.text == ""
    assert reply.attempts == 3 and fake_api.count == 3
    assert "HTTP 500" in reply.reason and "gave up after 3 attempts" in reply.reason


def test_retry_budget_bounds_total_time(fake_api) -> None:
    fake_api.default = error(503, "unavailable", retry_after=5)
    start = time.monotonic()
    reply = generate(fake_api, max_attempts=10, retry_max_total_s=1.0)
    assert reply.status == "error" and fake_api.count == 1
    assert "retry budget" in reply.reason
    assert time.monotonic() - start < 5


def test_malformed_json_is_an_error(fake_api) -> None:
    fake_api.push(garbage())
    reply = generate(fake_api)
    assert reply.status == "error" and "malformed response" in reply.reason
    assert fake_api.count == 1


def test_timeout_is_retried(fake_api) -> None:
    fake_api.push(hang(1.5), ok())
    reply = generate(fake_api, timeout_s=0.3)
    assert reply.status == "ok" and reply.attempts == 2 and fake_api.count == 2


def test_timeout_until_retries_run_out(fake_api) -> None:
    fake_api.default = hang(1.5)
    reply = generate(fake_api, timeout_s=0.3, max_attempts=2)
    assert reply.status == "error" and "timeout" in reply.reason
    assert reply.attempts == 2


def test_dropped_connection_is_retried(fake_api) -> None:
    fake_api.push(drop(), ok())
    reply = generate(fake_api)
    assert reply.status == "ok" and reply.attempts == 2 and fake_api.count == 2


@pytest.mark.parametrize("status", [401, 403])
def test_auth_error_fails_fast(fake_api, status: int) -> None:
    fake_api.push(error(status, "invalid x-api-key"))
    reply = generate(fake_api)
    assert reply.status == "error" and fake_api.count == 1 and reply.attempts == 1
    assert reply.reason.startswith(f"authentication failed (HTTP {status})")


def test_invalid_request_fails_fast(fake_api) -> None:
    fake_api.push(error(400, "max_tokens: too large"))
    reply = generate(fake_api)
    assert reply.status == "error" and fake_api.count == 1
    assert "invalid request (HTTP 400)" in reply.reason and "max_tokens" in reply.reason


# ----------------------------------------------------------------------------------------------
# Recorded failures of the reply itself
# ----------------------------------------------------------------------------------------------


def test_truncated_reply(fake_api) -> None:
    fake_api.push(truncated())
    reply = generate(fake_api)
    assert reply.status == "truncated" and reply.script is None
    assert "output token limit of 1024" in reply.reason


def test_reply_without_code(fake_api) -> None:
    fake_api.push(ok("You could use lxml to parse the page and read the order id."))
    reply = generate(fake_api)
    assert reply.status == "no_code" and reply.script is None and reply.text
    assert "no Python code" in reply.reason


def test_vendor_refusal(fake_api) -> None:
    fake_api.push(refusal())
    reply = generate(fake_api)
    assert reply.status == "refused" and reply.script is None
    assert reply.reason.startswith("model refused")


def test_refusal_wording_without_code(fake_api) -> None:
    fake_api.push(ok("I'm sorry, but I can't help with scraping this site."))
    reply = generate(fake_api)
    assert reply.status == "refused" and "can't help" in reply.reason


# ----------------------------------------------------------------------------------------------
# Cache
# ----------------------------------------------------------------------------------------------


def test_cache_hit_makes_no_request(fake_api, tmp_path: Path) -> None:
    fake_api.push(ok(input_tokens=100, output_tokens=50))
    first = generate(fake_api, tmp_path)
    second = generate(fake_api, tmp_path)
    assert fake_api.count == 1
    assert not first.cached and second.cached and second.attempts == 0
    assert (second.text, second.script, second.status) == (first.text, first.script, first.status)
    assert (second.input_tokens, second.output_tokens) == (100, 50)
    assert second.cost_usd == first.cost_usd > 0
    generate(fake_api, tmp_path, prompt=PROMPT + " (iteration 2)")
    assert fake_api.count == 2


def test_recorded_failures_cached_errors_not(fake_api, tmp_path: Path) -> None:
    fake_api.push(truncated(), error(500), error(500), error(500))
    assert generate(fake_api, tmp_path).status == "truncated"
    assert generate(fake_api, tmp_path).status == "truncated"
    assert fake_api.count == 1
    other = PROMPT + " other"
    assert generate(fake_api, tmp_path, prompt=other).status == "error"
    assert generate(fake_api, tmp_path, prompt=other).status == "ok"  # error was not cached
    assert fake_api.count == 5


def test_api_key_never_written_to_cache(fake_api, tmp_path: Path) -> None:
    fake_api.push(ok(), truncated(), refusal(), ok("no code here"))
    for i in range(4):
        generate(fake_api, tmp_path, prompt=f"{PROMPT} {i}")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 4
    blob = b"".join(p.read_bytes() for p in files)
    for key in KEYS.values():
        assert key.encode() not in blob
    assert not list(tmp_path.rglob("*.tmp"))


def test_key_scrubbed_from_reasons(fake_api) -> None:
    key = KEYS[KEY_OF[fake_api.vendor]]
    fake_api.push(error(401, f"Incorrect API key provided: {key}"))
    reply = generate(fake_api)
    assert key not in reply.reason and "***" in reply.reason


# ----------------------------------------------------------------------------------------------
# Keys and TLS
# ----------------------------------------------------------------------------------------------


def test_missing_key_is_a_config_error(fake_api, monkeypatch: pytest.MonkeyPatch) -> None:
    var = KEY_OF[fake_api.vendor]
    monkeypatch.delenv(var)
    with pytest.raises(ModelConfigError, match=var):
        get_model("m", entry_for(fake_api), cache_dir=None)
    assert missing_keys(["m"], {"m": entry_for(fake_api)}) == [var]
    assert fake_api.count == 0


def test_missing_key_at_call_time(fake_api, monkeypatch: pytest.MonkeyPatch) -> None:
    model = get_model("m", entry_for(fake_api), cache_dir=None)
    monkeypatch.delenv(KEY_OF[fake_api.vendor])
    with pytest.raises(ModelConfigError, match=KEY_OF[fake_api.vendor]):
        model.generate(request())


def test_gemini_accepts_google_api_key(fake_gemini, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-google-variant-0123456789")
    assert missing_keys(["g"], {"g": entry_for(fake_gemini)}) == []
    assert generate(fake_gemini).status == "ok"
    assert fake_gemini.requests[0].headers["x-goog-api-key"] == "AIza-google-variant-0123456789"


def test_api_key_env_override(fake_api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_TOKEN", "gw-token-0123456789")
    assert generate(fake_api, api_key_env="GATEWAY_TOKEN").status == "ok"
    headers = fake_api.requests[0].headers
    assert "gw-token-0123456789" in json.dumps(headers)
    assert KEYS[KEY_OF[fake_api.vendor]] not in json.dumps(headers)
    monkeypatch.delenv("GATEWAY_TOKEN")
    with pytest.raises(ModelConfigError, match="GATEWAY_TOKEN"):
        get_model("m", entry_for(fake_api, api_key_env="GATEWAY_TOKEN"), cache_dir=None)


def test_tls_trusted_only_through_ssl_cert_file(make_fake_api, tls_material, vendor_param,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    server = make_fake_api(vendor_param, tls=tls_material)
    assert server.base_url.startswith("https://127.0.0.1:")
    untrusted = generate(server)
    assert untrusted.status == "error" and "SSL_CERT_FILE" in untrusted.reason
    assert untrusted.attempts == 1  # a certificate failure is not retried
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_material.ca_file))
    trusted = generate(server)
    assert trusted.status == "ok", trusted.reason
    assert server.count == 1


@pytest.fixture(params=VENDORS)
def vendor_param(request: pytest.FixtureRequest) -> str:
    return request.param


def test_openai_compatible_without_a_key(fake_openai, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = {
        "provider": "openai_compatible", "model": "qwen2.5-coder:7b", "tier": "fast",
        "max_output_tokens": 512, "temperature": 0.2, "price_input_per_mtok": 0.0,
        "price_output_per_mtok": 0.0, "base_url": fake_openai.base_url,
    }
    assert missing_keys(["local"], {"local": entry}) == []
    reply = get_model("local", entry, cache_dir=None).generate(request())
    assert reply.status == "ok" and reply.cost_usd == 0.0
    rec = fake_openai.requests[0]
    assert rec.body["model"] == "qwen2.5-coder:7b" and rec.body["max_tokens"] == 512
    # The real OpenAI key (set in this environment) must not go to a third-party server.
    assert KEYS["OPENAI_API_KEY"] not in json.dumps(rec.headers)
    monkeypatch.delenv("OPENAI_API_KEY")
    assert get_model("local", entry, cache_dir=None).generate(request()).status == "ok"


def test_openai_compatible_cache_separates_servers(make_fake_api, tmp_path: Path) -> None:
    a, b = make_fake_api("openai"), make_fake_api("openai")
    for server in (a, b):
        entry = {**entry_for(server), "provider": "openai_compatible", "model": "llama3"}
        get_model("local", entry, cache_dir=tmp_path).generate(request())
    assert (a.count, b.count) == (1, 1)


# ----------------------------------------------------------------------------------------------
# Registry, synth, laziness, retry policy
# ----------------------------------------------------------------------------------------------


def test_default_registry_ships_the_documented_models() -> None:
    assert set(DEFAULT_REGISTRY) == {"claude", "claude_fast", "openai", "openai_fast", "gemini",
                                     "gemini_fast", "local", "synth"}
    for name, entry in DEFAULT_REGISTRY.items():
        validate_entry(name, entry)
    assert DEFAULT_REGISTRY["local"]["base_url"] == "http://127.0.0.1:11434/v1"
    assert DEFAULT_REGISTRY["local"]["provider"] == "openai_compatible"
    assert {e["tier"] for e in DEFAULT_REGISTRY.values()} == {"fast", "capable"}


def test_default_registry_mirrors_config_yaml() -> None:
    config = Path(__file__).resolve().parents[1] / "config.yaml"
    if not config.exists():
        pytest.skip("no config.yaml")
    yaml = pytest.importorskip("yaml")
    shipped = yaml.safe_load(config.read_text())["model_registry"]
    assert validate_registry(shipped) == validate_registry(DEFAULT_REGISTRY)


def test_missing_keys_for_enabled_models(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in KEYS:
        monkeypatch.delenv(var)
    reg = DEFAULT_REGISTRY
    assert missing_keys(["synth", "local"], reg) == []
    assert missing_keys(["claude", "claude_fast", "gemini", "synth"], reg) == [
        "ANTHROPIC_API_KEY", "GEMINI_API_KEY"]
    with pytest.raises(ModelConfigError, match="unknown model 'nope'"):
        missing_keys(["nope"], reg)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"provider": "mistral"}, "provider must be one of"),
        ({"tier": "huge"}, "tier must be one of"),
        ({"max_output_tokens": 0}, "max_output_tokens must be >= 1"),
        ({"temperature": 3}, "temperature must be between 0 and 2"),
        ({"price_input_per_mtok": "cheap"}, "price_input_per_mtok must be a number"),
        ({"base_url": "ftp://x"}, "base_url must be an http"),
        ({"api_key_env": "not a var"}, "api_key_env must be"),
        ({"colour": "red"}, "unknown key"),
    ],
)
def test_validate_entry_names_model_and_key(change: dict, message: str) -> None:
    entry = {**DEFAULT_REGISTRY["claude"], **change}
    with pytest.raises(ModelConfigError, match=message) as info:
        validate_entry("claude", entry)
    assert "'claude'" in str(info.value)


def test_synth_adapter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict = {}

    def synthesize(pages, fields, types_, previous_script=None, failures=None):
        seen.update(pages=pages, fields=fields, types=types_, previous=previous_script,
                    failures=failures)
        return "def extract(html):\n    return {}\n"

    monkeypatch.setitem(sys.modules, "autoheal.synth", types.SimpleNamespace(synthesize=synthesize))
    model = get_model("synth", DEFAULT_REGISTRY["synth"], cache_dir=tmp_path)
    req = GenerationRequest(model="synth", prompt="ignored", fields=("ORDER_ID",),
                            types={"ORDER_ID": "id"}, pages=("p1", "p2"), previous_script="old",
                            failures=({"page_id": "p1"},))
    reply = model.generate(req)
    assert reply.status == "ok" and reply.script.startswith("def extract")
    assert (reply.input_tokens, reply.output_tokens, reply.cost_usd, reply.cached) == (0, 0, 0.0,
                                                                                       False)
    assert seen == {"pages": ["p1", "p2"], "fields": ["ORDER_ID"], "types": {"ORDER_ID": "id"},
                    "previous": "old", "failures": [{"page_id": "p1"}]}
    model.generate(GenerationRequest(model="synth", prompt="x"))
    assert seen["failures"] is None and seen["types"] == {}
    assert not any(tmp_path.iterdir())  # synth is never cached


def test_synth_entry_needs_only_its_provider() -> None:
    entry = validate_entry("synth", {"provider": "synth"})
    assert entry["tier"] == "fast" and entry["price_input_per_mtok"] == 0.0
    with pytest.raises(ModelConfigError, match="missing key.*model"):
        validate_entry("c", {k: v for k, v in DEFAULT_REGISTRY["claude"].items() if k != "model"})


def test_synth_fault_is_an_error_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    def synthesize(*args, **kwargs):
        raise RuntimeError("no pages")

    monkeypatch.setitem(sys.modules, "autoheal.synth", types.SimpleNamespace(synthesize=synthesize))
    reply = get_model("synth", DEFAULT_REGISTRY["synth"], cache_dir=None).generate(request())
    assert reply.status == "error" and reply.reason == "synth failed: RuntimeError: no pages"


def test_sdks_are_imported_lazily() -> None:
    code = ("import sys, autoheal.models as m; m.get_model('synth', m.DEFAULT_REGISTRY['synth'],"
            " cache_dir=None); print(sorted(k for k in ('anthropic', 'openai', 'google.genai')"
            " if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_backoff_is_exponential_jittered_and_capped() -> None:
    policy = RetryPolicy(max_attempts=9, base_delay_s=1.0, max_delay_s=10.0, max_total_s=100)
    assert policy.backoff(1, rng=lambda: 0.0) == 0.5
    assert policy.backoff(1, rng=lambda: 1.0) == 1.0
    assert policy.backoff(3, rng=lambda: 1.0) == 4.0
    assert policy.backoff(8, rng=lambda: 1.0) == 10.0
    assert policy.backoff(1, retry_after=7.0, rng=lambda: 1.0) == 7.0


def test_retry_after_forms_and_bare_httpx_errors() -> None:
    import httpx2

    class Resp:
        def __init__(self, headers):
            self.headers = headers

    class StatusErr(Exception):
        status_code = 429

        def __init__(self, headers):
            super().__init__("rate limited")
            self.response = Resp(headers)

    assert retry_after(StatusErr({"retry-after": "3"})) == 3.0
    assert retry_after(StatusErr({"retry-after-ms": "250"})) == 0.25
    http_date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= retry_after(StatusErr({"retry-after": http_date})) <= 31
    assert classify(StatusErr({})).retryable
    req = httpx2.Request("POST", "http://127.0.0.1/")
    assert classify(httpx2.ReadTimeout("timed out", request=req)).reason.startswith("timeout")
    assert classify(httpx2.RemoteProtocolError("gone", request=req)).retryable
    assert not classify(json.JSONDecodeError("Expecting value", "x", 0)).retryable
