"""Requests, replies, the Model protocol, errors, and the shared skeleton of the vendor backends.

Design
------
- ``GenerationRequest`` and ``Reply`` are the whole contract with the heal loop. Everything a
  backend might need is in the request (the synth backend uses the structured fields; the vendor
  backends send only ``system`` + ``prompt``), and everything the loop records is in the reply.
- ``Model.generate`` never raises for a model or API fault: faults become
  ``Reply(status="error", reason=...)``. It raises ``ModelConfigError`` only for a configuration
  problem (unknown provider, bad registry entry, missing API key), which the workflow reports at
  parse time through ``missing_keys``/``validate_entry`` anyway.
- Invariant: ``status == "ok"`` exactly when ``script`` is not None.
- ``VendorModel`` is the one place where a vendor call is wrapped: read the key from the
  environment, build a fresh SDK client (so ``SSL_CERT_FILE`` and friends are read after the
  environment is final), call with ``retry.call_with_retry`` (SDK retries are disabled so all
  vendors behave alike), turn the vendor answer (``RawReply``) into a ``Reply`` via
  ``reply.build_reply``, and scrub any key value out of every recorded string. A provider class
  only says how to build its client, how to make one call, and where its key lives.
- Cost accounting: ``cost_usd = input_tokens * price_in / 1e6 + output_tokens * price_out / 1e6``.
  A cache hit (``cached=True``) repeats the original tokens and cost; callers that sum spend must
  count ``cost_usd`` only for replies with ``cached=False``.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "STATUSES",
    "GenerationRequest",
    "Model",
    "ModelConfigError",
    "RawReply",
    "Reply",
    "VendorModel",
    "cost_usd",
    "error_reply",
    "key_env_for",
    "scrub",
]

log = logging.getLogger("autoheal.models")

STATUSES = ("ok", "refused", "no_code", "truncated", "error")

# The SDK's usual key variables per provider (the first is the one named in errors).
KEY_ENVS: dict[str, tuple[str, ...]] = {
    "anthropic": ("ANTHROPIC_API_KEY",),
    "openai": ("OPENAI_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "openai_compatible": (),
    "synth": (),
    "fake": (),
}
# Every variable an API key may live in; their values are scrubbed from anything recorded.
KEY_ENV_VARS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")


def key_env_for(entry: dict) -> tuple[str, ...]:
    """The variables that may hold an entry's key (empty: no key needed)."""
    if entry.get("api_key_env"):
        return (entry["api_key_env"],)
    return KEY_ENVS.get(entry.get("provider", ""), ())


class ModelConfigError(ValueError):
    """A configuration problem (bad registry entry, unknown provider, missing API key)."""


@dataclass(frozen=True)
class GenerationRequest:
    model: str  # registry name, e.g. "claude_fast"
    prompt: str  # full prompt text, already built by autoheal.prompts
    system: str = ""  # optional system text
    store_id: str = ""
    fields: tuple[str, ...] = ()
    types: dict | None = None  # field -> type (for synth)
    pages: tuple = ()  # train Page objects (synth only; never sent to vendor APIs)
    iteration: int = 0
    previous_script: str | None = None
    failures: tuple = ()  # failure dicts (for synth)


@dataclass(frozen=True)
class Reply:
    text: str  # raw reply text ("" on failure)
    script: str | None  # extracted code; None unless status == "ok"
    status: str  # "ok" | "refused" | "no_code" | "truncated" | "error"
    reason: str | None  # one line explaining a non-ok status
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0  # count it only when cached is False
    latency_ms: float = 0.0  # wall time of generate(), retries and back-off included
    cached: bool = False
    attempts: int = 0  # HTTP attempts made by this call (0 on a cache hit)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Reply:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@runtime_checkable
class Model(Protocol):
    name: str

    def generate(self, request: GenerationRequest) -> Reply: ...


@dataclass(frozen=True)
class RawReply:
    """What a vendor call yields, before code extraction.

    ``stop`` is normalised: ``"stop"`` (normal end), ``"max_tokens"`` (cut at the token limit),
    ``"refusal"`` (the vendor's refusal signal) or ``"other"``; ``vendor_stop`` keeps the
    vendor's own wording for reasons.
    """

    text: str
    stop: str
    vendor_stop: str
    input_tokens: int = 0
    output_tokens: int = 0
    refusal_detail: str = ""


def raise_if_interrupted(exc: BaseException) -> None:
    """Re-raise a Ctrl-C/exit hidden in ``exc``'s chain (e.g. a KeyboardInterrupt during an SDK's
    lazy import surfaces as ``RuntimeError: Error calling __set_name__``): an interrupted call
    is not a model fault to record and build on."""
    seen, cur = set(), exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, KeyboardInterrupt | SystemExit):
            raise cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__


def one_line(text: object, limit: int = 300) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def secret_values(extra_env: str | None = None) -> list[str]:
    """The current values of every API-key variable (long enough to be a key)."""
    names = [*KEY_ENV_VARS, *([extra_env] if extra_env else [])]
    return [v for v in (os.environ.get(n, "") for n in names) if len(v) >= 6]


def scrub(text: str | None, secrets: list[str] | None = None) -> str | None:
    """``text`` with every key value replaced by ``***``."""
    if not text:
        return text
    for s in secrets if secrets is not None else secret_values():
        if s:
            text = text.replace(s, "***")
    return text


def cost_usd(input_tokens: int, output_tokens: int, entry: dict) -> float:
    """``in * price_in / 1e6 + out * price_out / 1e6`` with the entry's per-MTok prices."""
    return (input_tokens * float(entry.get("price_input_per_mtok") or 0.0)
            + output_tokens * float(entry.get("price_output_per_mtok") or 0.0)) / 1e6


def error_reply(reason: str, *, attempts: int = 0, latency_ms: float = 0.0) -> Reply:
    return Reply(text="", script=None, status="error", reason=one_line(reason),
                 attempts=attempts, latency_ms=latency_ms)


class VendorModel:
    """Shared skeleton of the SDK backends; subclasses implement the three hooks below."""

    provider: str = ""
    key_lookup: tuple[str, ...] | None = None  # lookup order, when it differs from KEY_ENVS

    def __init__(self, name: str, entry: dict, *, retry: Any = None) -> None:
        from .retry import RetryPolicy

        self.name = name
        self.entry = entry
        self.vendor_model: str = entry["model"]
        self.max_output_tokens: int = int(entry["max_output_tokens"])
        self.temperature: float | None = entry.get("temperature")
        self.base_url: str | None = entry.get("base_url")
        self.timeout_s: float = float(entry.get("timeout_s", 120.0))
        self.policy = retry if retry is not None else RetryPolicy.from_entry(entry)

    # -- hooks -------------------------------------------------------------------------------
    def make_client(self, api_key: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def call(self, client: Any, request: GenerationRequest) -> RawReply:  # pragma: no cover
        raise NotImplementedError

    def close_client(self, client: Any) -> None:
        close = getattr(client, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # noqa: BLE001 - closing must never hide the result
                pass

    # -- keys --------------------------------------------------------------------------------
    def api_key(self) -> str:
        """The key from the environment ("" when none is needed); ModelConfigError naming the
        variable when it is missing."""
        names = key_env_for(self.entry)
        order = self.key_lookup if self.key_lookup and names == KEY_ENVS[self.provider] else names
        for n in order:
            if os.environ.get(n):
                return os.environ[n]
        if names:
            alts = f" (or {', '.join(names[1:])})" if len(names) > 1 else ""
            raise ModelConfigError(
                f"model {self.name!r} (provider {self.provider}) needs an API key: "
                f"set the environment variable {names[0]}{alts}"
            )
        return ""

    # -- cache identity ----------------------------------------------------------------------
    def cache_material(self, request: GenerationRequest) -> dict:
        """What identifies a reply: provider, vendor model, parameters, full prompt + system."""
        return {
            "provider": self.provider,
            "model": self.vendor_model,
            "params": {"max_output_tokens": self.max_output_tokens,
                       "temperature": self.temperature},
            "system": request.system,
            "prompt": request.prompt,
        }

    # -- the call ----------------------------------------------------------------------------
    def generate(self, request: GenerationRequest) -> Reply:
        from .reply import build_reply
        from .retry import call_with_retry

        key = self.api_key()  # ModelConfigError propagates: a config problem
        secrets = [*secret_values(self.entry.get("api_key_env")), *([key] if key else [])]
        start = time.monotonic()
        try:
            client = self.make_client(key)
        except ImportError as exc:
            raise ModelConfigError(f"model {self.name!r} needs the {self.provider} SDK: "
                                   f"{exc} (install the project's dependencies)") from None
        except Exception as exc:  # noqa: BLE001 - an SDK that cannot be built is a fault
            raise_if_interrupted(exc)
            return error_reply(scrub(f"{self.provider} client: {type(exc).__name__}: {exc}",
                                     secrets))
        try:
            outcome = call_with_retry(lambda: self.call(client, request), self.policy,
                                      label=f"{self.name} ({self.provider})", secrets=secrets,
                                      key_hint=" / ".join(key_env_for(self.entry)))
        finally:
            self.close_client(client)
        latency = (time.monotonic() - start) * 1000.0
        if outcome.fault is not None:
            return error_reply(scrub(outcome.fault.reason, secrets), attempts=outcome.attempts,
                               latency_ms=latency)
        raw: RawReply = outcome.value
        reply = build_reply(raw, max_output_tokens=self.max_output_tokens)
        return Reply(
            text=scrub(reply.text, secrets) or "",
            script=scrub(reply.script, secrets),
            status=reply.status,
            reason=scrub(reply.reason, secrets),
            input_tokens=raw.input_tokens,
            output_tokens=raw.output_tokens,
            cost_usd=cost_usd(raw.input_tokens, raw.output_tokens, self.entry),
            latency_ms=latency,
            cached=False,
            attempts=outcome.attempts,
        )
