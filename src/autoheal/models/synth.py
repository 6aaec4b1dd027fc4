"""The offline synthesizer as a Model (provider ``synth``).

Calls ``autoheal.synth.synthesize`` with the structured parts of the request (train pages,
fields, types, previous script, failures); the prompt text is not used. The import is lazy, so
this package works before ``autoheal.synth`` exists. Deterministic and free: tokens and cost are
0, and it is never cached (``cache_material`` is absent on purpose).

Faults still never raise: an import failure or an exception inside the synthesizer becomes
``status="error"`` with the exception as reason; an empty script is ``no_code``.
"""

from __future__ import annotations

import time

from .base import GenerationRequest, Reply, error_reply, one_line

__all__ = ["SynthModel"]


class SynthModel:
    provider = "synth"

    def __init__(self, name: str, entry: dict | None = None) -> None:
        self.name = name
        self.entry = dict(entry or {})

    def generate(self, request: GenerationRequest) -> Reply:
        start = time.monotonic()
        try:
            from autoheal.synth import synthesize

            script = synthesize(
                list(request.pages),
                list(request.fields),
                dict(request.types or {}),
                previous_script=request.previous_script,
                failures=list(request.failures) or None,
            )
        except Exception as exc:  # noqa: BLE001 - a synthesizer fault is a result
            return error_reply(f"synth failed: {type(exc).__name__}: {one_line(exc, 200)}",
                               attempts=1, latency_ms=(time.monotonic() - start) * 1000.0)
        latency = (time.monotonic() - start) * 1000.0
        if not script or not script.strip():
            return Reply("", None, "no_code", "synth produced an empty script", attempts=1,
                         latency_ms=latency)
        return Reply(text=script, script=script, status="ok", reason=None, attempts=1,
                     latency_ms=latency)
