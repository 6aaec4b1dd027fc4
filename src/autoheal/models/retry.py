"""Retrying vendor calls the same way for every SDK.

The SDKs' own retries are switched off (``max_retries=0`` for anthropic/openai; google-genai
gets no ``retry_options`` and does not retry by default), so this module is the only retry
logic and the behaviour is identical for all vendors.

Classification (``classify``) is by duck typing, without importing any SDK:

- an HTTP status on the exception (``status_code`` on anthropic/openai ``APIStatusError``,
  ``code`` on google-genai ``APIError``): 408, 409, 425, 429 and 5xx are transient; 401/403 are
  authentication errors and other 4xx invalid requests, both failing fast;
- timeouts (``APITimeoutError``, bare ``httpx2.TimeoutException`` from google-genai,
  ``TimeoutError``) and dropped connections (``APIConnectionError``, ``httpx2.TransportError``,
  ``ConnectionError``) are transient, except a TLS certificate failure, which fails fast with a
  hint about ``SSL_CERT_FILE``;
- a 200 with invalid JSON surfaces as a bare ``json.JSONDecodeError`` (a ``ValueError``) from all
  three SDKs; it is reported as a malformed response and not retried (the SDKs do not retry it
  either, and a server that sends garbage once usually keeps doing so);
- anything else is a non-retryable fault with its type and message.

Back-off: attempt ``n`` (1-based) waits ``min(max_delay, base * 2**(n-1))`` scaled by a random
factor in [0.5, 1.0] ("equal jitter"), or the server's ``Retry-After`` (seconds, HTTP date, or
``retry-after-ms``; Gemini's ``RetryInfo.retryDelay`` too) when that is longer. Attempts are
bounded by ``max_attempts`` and the whole call by ``max_total_s``: when the next wait would
overrun the budget the call gives up at once with the last fault as the reason.
"""

from __future__ import annotations

import email.utils
import logging
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .base import ModelConfigError, one_line, raise_if_interrupted, scrub

__all__ = ["Fault", "Outcome", "RetryPolicy", "call_with_retry", "classify"]

log = logging.getLogger("autoheal.models")

TRANSIENT_STATUS = frozenset({408, 409, 425, 429})
_TIMEOUT_NAMES = frozenset({"APITimeoutError", "TimeoutException"})
_CONNECTION_NAMES = frozenset({"APIConnectionError", "TransportError", "NetworkError"})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_total_s: float = 300.0

    @classmethod
    def from_entry(cls, entry: dict) -> RetryPolicy:
        """Policy from optional registry keys (``max_attempts``, ``retry_*``)."""
        d = cls()
        return cls(
            max_attempts=int(entry.get("max_attempts", d.max_attempts)),
            base_delay_s=float(entry.get("retry_base_delay_s", d.base_delay_s)),
            max_delay_s=float(entry.get("retry_max_delay_s", d.max_delay_s)),
            max_total_s=float(entry.get("retry_max_total_s", d.max_total_s)),
        )

    def backoff(self, attempt: int, retry_after: float | None = None,
                rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        exp = min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))
        delay = exp * (0.5 + 0.5 * rng())
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay


@dataclass(frozen=True)
class Fault:
    retryable: bool
    reason: str  # one line, for Reply.reason
    status: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Outcome:
    value: Any
    fault: Fault | None
    attempts: int


# ----------------------------------------------------------------------------------------------
# Classification
# ----------------------------------------------------------------------------------------------


def _mro_names(exc: BaseException) -> set[str]:
    return {c.__name__ for c in type(exc).__mro__}


def _chain(exc: BaseException):
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def http_status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    code = getattr(exc, "code", None)  # google-genai APIError
    if isinstance(code, int) and 100 <= code < 600 and hasattr(exc, "response"):
        return code
    return None


def _headers(exc: BaseException) -> Any:
    resp = getattr(exc, "response", None)
    return getattr(resp, "headers", None) or {}


def _parse_seconds(value: str) -> float | None:
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait, if it said so."""
    headers = _headers(exc)
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
        ra = headers.get("retry-after")
        if ra is not None:
            return _parse_seconds(ra)
    except (AttributeError, ValueError):
        pass
    details = getattr(exc, "details", None)  # google-genai: error.details[*].retryDelay "12s"
    try:
        for d in details.get("error", {}).get("details", []) or []:
            delay = d.get("retryDelay")
            if isinstance(delay, str) and delay.endswith("s"):
                return _parse_seconds(delay[:-1])
    except AttributeError:
        pass
    return None


def api_message(exc: BaseException) -> str:
    """The server's own error message where the SDK exposes it, else str(exc)."""
    body = getattr(exc, "body", None)
    if body is None:
        body = getattr(exc, "details", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
    msg = getattr(exc, "api_message", None)
    if isinstance(msg, str) and msg:
        return msg
    return str(exc) or type(exc).__name__


def classify(exc: BaseException) -> Fault:
    """How to treat ``exc`` raised by a vendor call (see the module docstring)."""
    name = type(exc).__name__
    status = http_status(exc)
    if status is not None:
        msg = one_line(api_message(exc), 200)
        if status in TRANSIENT_STATUS or status >= 500:
            label = "rate limited" if status == 429 else "server error"
            return Fault(True, f"{label} (HTTP {status}): {msg}", status, retry_after(exc))
        if status in (401, 403):
            return Fault(False, f"authentication failed (HTTP {status}): {msg}", status)
        return Fault(False, f"invalid request (HTTP {status}): {msg}", status)
    chain = list(_chain(exc))
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain) or any(
        "CERTIFICATE_VERIFY_FAILED" in str(e) for e in chain
    ):
        return Fault(False, "TLS certificate verification failed; point SSL_CERT_FILE at a CA "
                            "bundle that includes your (corporate) CA")
    if any(_mro_names(e) & _TIMEOUT_NAMES or isinstance(e, TimeoutError) for e in chain[:2]):
        return Fault(True, f"timeout: no complete answer within the client timeout ({name})")
    if any(_mro_names(e) & _CONNECTION_NAMES or isinstance(e, ConnectionError) for e in chain[:2]):
        cause = chain[1] if len(chain) > 1 else exc
        return Fault(True, f"connection error: {type(cause).__name__}: {one_line(cause, 200)}")
    if isinstance(exc, ValueError):
        return Fault(False, f"malformed response from the API: {name}: {one_line(exc, 200)}")
    return Fault(False, f"{name}: {one_line(exc, 200)}")


# ----------------------------------------------------------------------------------------------
# The loop
# ----------------------------------------------------------------------------------------------


def call_with_retry(
    fn: Callable[[], Any],
    policy: RetryPolicy,
    *,
    label: str = "model",
    secrets: list[str] | None = None,
    key_hint: str = "",
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Outcome:
    """Call ``fn`` until it returns, a fault is permanent, or attempts/time run out.

    Never raises for a fault (``ModelConfigError`` and ``BaseException``s that are not
    ``Exception`` propagate). Reasons are scrubbed of ``secrets``; an authentication failure's
    reason names ``key_hint`` (the key's variable).
    """
    start = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return Outcome(fn(), None, attempt)
        except ModelConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - every fault becomes a result
            raise_if_interrupted(exc)
            fault = classify(exc)
        reason = scrub(fault.reason, secrets) or ""
        if not fault.retryable:
            if fault.status in (401, 403) and key_hint:
                reason = f"{reason}; check {key_hint}"
            return Outcome(None, Fault(False, reason, fault.status), attempt)
        if attempt >= policy.max_attempts:
            return Outcome(None, Fault(True, f"{reason} (gave up after {attempt} attempts)",
                                       fault.status), attempt)
        delay = policy.backoff(attempt, fault.retry_after)
        elapsed = clock() - start
        if elapsed + delay > policy.max_total_s:
            return Outcome(None, Fault(True, f"{reason} (gave up after {attempt} attempts: "
                                             f"retry budget of {policy.max_total_s:g}s spent)",
                                       fault.status), attempt)
        log.warning("%s: attempt %d failed (%s); retrying in %.2fs", label, attempt, reason, delay)
        sleep(delay)
