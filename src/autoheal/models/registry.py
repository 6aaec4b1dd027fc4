"""The model registry: shipped entries, entry validation, key checks and ``get_model``.

A registry maps a model name (what the workflow's ``models`` list and result file names use)
to an entry:

==========================  ==================================================================
``provider``                ``anthropic`` | ``openai`` | ``gemini`` | ``openai_compatible`` |
                            ``synth`` (``fake`` for tests)
``model``                   the vendor's model id (not needed for ``synth``)
``tier``                    ``fast`` | ``capable``
``max_output_tokens``       output token limit per call (reasoning/thinking tokens count too)
``temperature``             number, or null to leave it to the vendor (gpt-5 accepts only 1;
                            anthropic 2.12.0 has no temperature argument, it goes in the body)
``price_input_per_mtok``    USD per million input tokens
``price_output_per_mtok``   USD per million output tokens
``base_url``                optional: a proxy, gateway, local server or test server
``api_key_env``             optional: the variable holding the key instead of the SDK's usual one
``timeout_s``               optional: per-request timeout (default 120)
``max_attempts``            optional: attempts per call incl. the first (default 5)
``retry_base_delay_s``      optional: first back-off (default 1.0), doubled per attempt
``retry_max_delay_s``       optional: longest single back-off (default 30)
``retry_max_total_s``       optional: budget for the whole call incl. waits (default 300)
==========================  ==================================================================

``DEFAULT_REGISTRY`` mirrors what ``config.yaml`` ships (prices: public list prices per MTok
for standard, non-batch use, prompts under 200k tokens). Keys come only from the environment:
``ANTHROPIC_API_KEY``, ``OPENAI_API_KEY``, ``GEMINI_API_KEY`` (or ``GOOGLE_API_KEY``); the
``local`` server needs none.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

from .base import KEY_ENVS, Model, ModelConfigError, key_env_for

__all__ = [
    "DEFAULT_REGISTRY",
    "ENTRY_KEYS",
    "PROVIDERS",
    "TIERS",
    "KEY_ENVS",
    "get_model",
    "key_env_for",
    "missing_keys",
    "validate_entry",
    "validate_registry",
]

PROVIDERS = ("anthropic", "openai", "gemini", "openai_compatible", "synth")
TEST_PROVIDERS = ("fake",)
TIERS = ("fast", "capable")

REQUIRED_KEYS = ("provider", "tier", "max_output_tokens", "temperature",
                 "price_input_per_mtok", "price_output_per_mtok")
OPTIONAL_KEYS = ("model", "base_url", "api_key_env", "timeout_s", "max_attempts",
                 "retry_base_delay_s", "retry_max_delay_s", "retry_max_total_s", "replies")
ENTRY_KEYS = REQUIRED_KEYS + OPTIONAL_KEYS

def _entry(provider: str, model: str, tier: str, price_in: float, price_out: float, *,
           max_output_tokens: int = 8192, temperature: float | None = 0.0, **extra: Any) -> dict:
    return {"provider": provider, "model": model, "tier": tier,
            "max_output_tokens": max_output_tokens, "temperature": temperature,
            "price_input_per_mtok": price_in, "price_output_per_mtok": price_out, **extra}


# Mirrors model_registry in config.yaml (tests/test_models.py checks that they agree).
DEFAULT_REGISTRY: dict[str, dict] = {
    "synth": _entry("synth", "synth", "fast", 0.0, 0.0, max_output_tokens=0),
    "claude": _entry("anthropic", "claude-sonnet-4-5", "capable", 3.0, 15.0),
    "claude_fast": _entry("anthropic", "claude-haiku-4-5", "fast", 1.0, 5.0),
    "openai": _entry("openai", "gpt-5", "capable", 1.25, 10.0, temperature=1.0),
    "openai_fast": _entry("openai", "gpt-5-mini", "fast", 0.25, 2.0, temperature=1.0),
    "gemini": _entry("gemini", "gemini-2.5-pro", "capable", 1.25, 10.0),
    "gemini_fast": _entry("gemini", "gemini-2.5-flash", "fast", 0.3, 2.5),
    "local": _entry("openai_compatible", "qwen2.5-coder:14b", "capable", 0.0, 0.0,
                    base_url="http://127.0.0.1:11434/v1"),
}

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _num(name: str, entry: dict, key: str, *, lo: float = 0.0, hi: float | None = None,
         integer: bool = False, nullable: bool = False) -> None:
    value = entry.get(key)
    if value is None and nullable:
        return
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise ModelConfigError(f"model {name!r}: {key} must be {kind}, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        bounds = f">= {lo:g}" if hi is None else f"between {lo:g} and {hi:g}"
        raise ModelConfigError(f"model {name!r}: {key} must be {bounds}, got {value!r}")


def validate_entry(name: str, entry: Any) -> dict:
    """A checked copy of one registry entry; ModelConfigError naming the model and key."""
    if not isinstance(entry, dict):
        raise ModelConfigError(f"model {name!r}: registry entry must be a mapping, got {entry!r}")
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        raise ModelConfigError(f"model {name!r}: unknown key(s) {', '.join(unknown)}; "
                               f"allowed: {', '.join(ENTRY_KEYS)}")
    provider = entry.get("provider")
    if provider not in PROVIDERS + TEST_PROVIDERS:
        raise ModelConfigError(f"model {name!r}: provider must be one of "
                               f"{', '.join(PROVIDERS)}, got {provider!r}")
    out = copy.deepcopy(entry)
    if provider in ("synth", "fake"):  # no vendor behind them: everything has a default
        out = {**copy.deepcopy(DEFAULT_REGISTRY["synth"]), **out}
        if provider == "fake":
            return out
    missing = [k for k in ("model", *REQUIRED_KEYS) if k not in out]
    if missing:
        raise ModelConfigError(f"model {name!r}: missing key(s) {', '.join(missing)}")
    if not isinstance(out["model"], str) or not out["model"]:
        raise ModelConfigError(f"model {name!r}: model must be a non-empty string")
    if out["tier"] not in TIERS:
        raise ModelConfigError(f"model {name!r}: tier must be one of {', '.join(TIERS)}, "
                               f"got {out['tier']!r}")
    _num(name, out, "max_output_tokens", lo=0 if provider == "synth" else 1, integer=True)
    _num(name, out, "temperature", hi=2.0, nullable=True)
    _num(name, out, "price_input_per_mtok")
    _num(name, out, "price_output_per_mtok")
    for key in ("timeout_s", "retry_base_delay_s", "retry_max_delay_s", "retry_max_total_s"):
        if key in out:
            _num(name, out, key)
    if "max_attempts" in out:
        _num(name, out, "max_attempts", lo=1, integer=True)
    base_url = out.get("base_url")
    if base_url is not None and not (isinstance(base_url, str)
                                     and re.match(r"^https?://[^/\s]+", base_url)):
        raise ModelConfigError(f"model {name!r}: base_url must be an http(s) URL, got {base_url!r}")
    if provider == "openai_compatible" and not base_url:
        raise ModelConfigError(f"model {name!r}: provider openai_compatible needs a base_url")
    key_env = out.get("api_key_env")
    if key_env is not None and not (isinstance(key_env, str) and _ENV_NAME.match(key_env)):
        raise ModelConfigError(f"model {name!r}: api_key_env must be an environment variable "
                               f"name, got {key_env!r}")
    return out


def validate_registry(registry: dict) -> dict[str, dict]:
    return {name: validate_entry(name, entry) for name, entry in registry.items()}


def missing_keys(models: list[str], registry: dict) -> list[str]:
    """Names of the key variables missing for the given models (sorted, unique).

    A model whose provider accepts several variables (gemini) is satisfied by any of them and
    reported by its usual one. Unknown model names raise ModelConfigError.
    """
    missing: set[str] = set()
    for name in models:
        if name not in registry:
            raise ModelConfigError(f"unknown model {name!r}; the registry has: "
                                   f"{', '.join(sorted(registry))}")
        names = key_env_for(registry[name])
        if names and not any(os.environ.get(n) for n in names):
            missing.add(names[0])
    return sorted(missing)


def get_model(name: str, entry: dict, *, cache_dir: str | Path | None = None,
              retry: Any = None) -> Model:
    """The Model for a registry entry; cached under ``cache_dir`` unless it is synth/fake.

    Raises ModelConfigError for a bad entry or a missing key (checked now and again per call,
    since the environment may change). ``retry`` (a ``RetryPolicy``) overrides the entry's
    retry settings.
    """
    entry = validate_entry(name, entry)
    provider = entry["provider"]
    if provider == "synth":
        from .synth import SynthModel

        return SynthModel(name, entry)
    if provider == "fake":
        from .fake import FakeModel

        return FakeModel(entry.get("replies", ()), name=name, entry=entry)
    if provider == "anthropic":
        from .anthropic import AnthropicModel as cls
    elif provider == "gemini":
        from .gemini import GeminiModel as cls
    elif provider == "openai":
        from .openai import OpenAIModel as cls
    else:
        from .openai import OpenAICompatibleModel as cls
    model = cls(name, entry, retry=retry)
    model.api_key()  # fail early with the variable's name
    if cache_dir is None:
        return model
    from .cache import CachedModel, ReplyCache

    return CachedModel(model, ReplyCache(cache_dir))
