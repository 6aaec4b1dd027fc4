"""The cost cascade: cheap generators first, paid models only where they are needed.

Rungs: ``synth`` (0, offline, free) -> fast-tier models (1) -> capable-tier models (2).  With
the cascade on (config ``cascade``, effective only when a model other than synth is enabled),
synth runs for every store even if not listed; a model of rung r runs for a store only when
no candidate of a lower rung reached ``min_pass_rate`` on the TRAIN split.  The gate looks at
train results only, so the test split stays a clean judge for selection, which is unchanged
(most correct on test, then latency, over all candidates that ran).
"""

from __future__ import annotations

__all__ = ["rung", "RUNG_NAMES", "heal_models", "lower_rungs", "gate"]

RUNG_NAMES = {0: "synth", 1: "fast", 2: "capable"}


def rung(entry: dict) -> int:
    """0 for the offline synthesizer, 1 for fast-tier models, 2 for capable-tier models."""
    if entry.get("provider") == "synth":
        return 0
    return 1 if entry.get("tier") == "fast" else 2


def is_active(models: list[str], registry: dict, enabled: bool) -> bool:
    return bool(enabled) and any(registry[m].get("provider") != "synth" for m in models)


def heal_models(models: list[str], registry: dict, enabled: bool) -> list[str]:
    """The models that get a heal loop: the configured ones, plus synth when the cascade is on."""
    out = list(models)
    if is_active(models, registry, enabled) and not any(rung(registry[m]) == 0 for m in out):
        out.insert(0, "synth")
    return out


def lower_rungs(model: str, models: list[str], registry: dict, enabled: bool) -> list[str]:
    """The models whose train results gate ``model`` (empty when the cascade is off)."""
    if not is_active(models, registry, enabled):
        return []
    mine = rung(registry[model])
    return [m for m in heal_models(models, registry, enabled) if rung(registry[m]) < mine]


def gate(train_docs: list[dict], min_pass_rate: float) -> str | None:
    """Why a higher rung may skip this store (a lower rung already healed it on train), or None."""
    best = None
    for doc in train_docs:
        if doc.get("status") not in ("ok", "stopped") or doc.get("all_pct") is None:
            continue
        if best is None or doc["all_pct"] > best["all_pct"]:
            best = doc
    if best is not None and best["all_pct"] >= min_pass_rate:
        return (
            f"cascade: {best['model']} iteration {best['iteration']} already reached "
            f"{best['all_pct']}% on train (min_pass_rate {min_pass_rate}%); no model call"
        )
    return None
