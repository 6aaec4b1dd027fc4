"""Code generators for the heal loop: one API over Claude, OpenAI, Gemini, OpenAI-compatible
servers and the offline synthesizer.

Usage::

    from autoheal.models import GenerationRequest, get_model, missing_keys
    missing = missing_keys(config["models"], registry)        # parse time: name the variables
    model = get_model("claude_fast", registry["claude_fast"], cache_dir="results/cache/models")
    reply = model.generate(GenerationRequest(model="claude_fast", prompt=text, system=base))
    if reply.status == "ok": run(reply.script)
    else: record(reply.reason)                                # refused/no_code/truncated/error

Modules: ``base`` (request/reply, Model protocol, errors, the vendor skeleton), ``registry``
(entries, validation, ``get_model``, ``missing_keys``), one module per provider
(``anthropic``, ``openai`` for openai and openai_compatible, ``gemini``, ``synth``), ``retry``
(one retry policy for all vendors; SDK retries off), ``reply`` (code extraction and status),
``cache`` (content-addressed reply cache), ``fake`` (a scripted model for tests).

Guarantees: ``generate`` never raises for model/API faults (they are ``status="error"``
replies); ``ModelConfigError`` means configuration. API keys are read from the environment only,
per call, and never appear in replies, reasons, logs or the cache. Vendor SDKs are imported only
when a model of theirs is called. Sum ``cost_usd`` only over replies with ``cached=False``.
"""

from .base import (
    STATUSES,
    GenerationRequest,
    Model,
    ModelConfigError,
    Reply,
)
from .cache import CachedModel, ReplyCache, cache_key
from .fake import FakeModel
from .registry import (
    DEFAULT_REGISTRY,
    ENTRY_KEYS,
    PROVIDERS,
    TIERS,
    get_model,
    missing_keys,
    validate_entry,
    validate_registry,
)
from .reply import extract_code
from .retry import RetryPolicy

__all__ = [
    "DEFAULT_REGISTRY",
    "ENTRY_KEYS",
    "PROVIDERS",
    "STATUSES",
    "TIERS",
    "CachedModel",
    "FakeModel",
    "GenerationRequest",
    "Model",
    "ModelConfigError",
    "Reply",
    "ReplyCache",
    "RetryPolicy",
    "cache_key",
    "extract_code",
    "get_model",
    "missing_keys",
    "validate_entry",
    "validate_registry",
]
