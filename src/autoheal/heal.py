"""Stages 2-4: prompt -> script -> evaluation, iterated, for each model of one store.

:func:`heal_model` runs the loop of one (store, model) and writes every iteration's files
(``iter{n}/prompt.txt``, ``script.py``, ``train.json``, ``test.json``).  :func:`heal_store` is
what the Snakemake job ``heal_store`` calls: the baseline, then every model, cheapest cascade
rung first, then the selection (:mod:`autoheal.select`).  One job per store, not per step or
per model: Snakemake plans each job in ~4 ms and each declared file in ~0.25 ms on this
machine, so at 10,000 stores the job count decides whether planning takes one minute or four
(README, *Scale*).  Because model replies are cached content-addressed
(:mod:`autoheal.models`), rerunning a store after a change repeats no paid call for the
iterations whose prompts did not change.

Iteration 0 uses the first-inference prompt; iteration n >= 1 the improvement prompt built from
iteration n-1's script and its train failures.  When iteration n-1 reached ``min_pass_rate``
on train, iteration n calls no model and is written as ``stopped`` (a copy of n-1's results).
Only train failures are ever shown to a generator; the test split is scored but never shown.

Snakemake deletes a job's outputs before it reruns it, so raising ``max_iterations`` or editing
the improvement prompt reruns the whole store job.  Each finished iteration is therefore also
kept in an *iteration cache* (``{cache_dir}/iterations``) keyed by everything that determines
it: the model entry, the full prompt, the pages and labels of both splits, the sandbox options
and tier, and the version of autoheal's own code.  An unchanged iteration is restored from
there byte for byte, with no model call and no script run; only new or changed iterations do
work.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
from pathlib import Path

from .baseline import baseline_script
from .evaluate import empty_evaluation, evaluate_script, failures_of
from .io import atomic_write_json, atomic_write_text, read_json
from .page import Page
from .prompts import Templates, first_prompt, improve_prompt

__all__ = ["heal_store", "heal_model", "BASELINE"]

BASELINE = "baseline"
log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class _Generated:
    script: str | None
    status: str
    reason: str | None
    accounting: dict


def _generate(model_obj, request_kwargs: dict, *, paid: bool) -> _Generated:
    from .models import GenerationRequest

    reply = model_obj.generate(GenerationRequest(**request_kwargs))
    accounting = {
        "status": reply.status,
        "reason": reply.reason,
        "input_tokens": reply.input_tokens,
        "output_tokens": reply.output_tokens,
        "cost_usd": 0.0 if reply.cached else reply.cost_usd,
        "latency_ms": reply.latency_ms,
        "cached": reply.cached,
        "attempts": reply.attempts,
        "calls": 1 if paid and not reply.cached and reply.attempts > 0 else 0,
    }
    script = reply.script if reply.status == "ok" else None
    return _Generated(script, reply.status, reply.reason, accounting)


def _fragment_fn():
    from .compress import fragment_around

    return lambda html, forms: fragment_around(html, forms)


# Modules that do not change what an iteration generates or how it is scored.
_NOT_IN_CODE_VERSION = {
    "apply.py", "check.py", "cli.py", "demo.py", "drift.py", "health.py", "report.py",
    "select.py", "summary.py", "synthetic.py", "__main__.py",
}


@functools.cache
def code_version() -> str:
    """A hash of the autoheal code an iteration depends on (generation, prompts, sandbox,
    scoring): cached iterations never outlive a change to it, and reports or summaries can
    change without invalidating them."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if path.parent == root and path.name in _NOT_IN_CODE_VERSION:
            continue
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _iteration_key(parts: dict) -> str:
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


class _IterationCache:
    """Finished iterations, content-addressed (see module docstring)."""

    def __init__(self, cache_dir: str | Path | None):
        self.root = Path(cache_dir) / "iterations" if cache_dir else None

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        if self.root is None or not self._path(key).exists():
            return None
        try:
            return read_json(self._path(key))
        except (OSError, ValueError):
            return None

    def put(self, key: str, entry: dict) -> None:
        if self.root is not None:
            atomic_write_json(self._path(key), entry)


def heal_store(
    samples: dict,
    *,
    models: dict[str, dict],
    templates: Templates,
    store_dir: str | Path,
    final_dir: str | Path,
    max_iterations: int,
    min_pass_rate: float = 0.0,
    gates: dict[str, list[str]] | None = None,
    rungs: dict[str, str] | None = None,
    **loop_options,
) -> dict:
    """Heal one store with every model and select its best candidate; returns ``best.json``.

    ``models`` maps each model to its registry entry, in the order to run them (cheapest rung
    first); ``gates[model]`` lists the cheaper models whose train results let ``model`` skip
    the store (:func:`autoheal.cascade.gate`).  The baseline always runs.  A skipped store
    (``samples["skipped"]``) gets placeholder iterations, so every declared file exists.
    ``loop_options`` go to :func:`heal_model` (``cache_dir``, ``sandbox_options``, ...).
    """
    from .cascade import gate
    from .select import select_best

    gates = gates or {}
    store_dir = Path(store_dir)
    skipped = f"store skipped: {samples['skipped']}" if samples["skipped"] else None
    heal_model(samples, model=BASELINE, entry=None, templates=templates, out_dir=store_dir / BASELINE,
               max_iterations=0, min_pass_rate=100.0, skip=skipped, skip_status="skipped", **loop_options)
    train: dict[str, list[dict]] = {}  # per model, its iterations' train results (for the gates)
    for model, entry in models.items():
        reason = skipped
        if reason is None and gates.get(model):
            reason = gate([doc for m in gates[model] for doc in train[m]], min_pass_rate)
        records = heal_model(samples, model=model, entry=entry, templates=templates,
                             out_dir=store_dir / model, max_iterations=max_iterations,
                             min_pass_rate=min_pass_rate, skip=reason,
                             skip_status="skipped" if skipped else "cascade_skipped", **loop_options)
        train[model] = [{"model": model, "iteration": r["iteration"], "status": r["status"],
                         "all_pct": r.get("train_all_pct")} for r in records]
    iterations = {**dict.fromkeys(models, max_iterations), BASELINE: 0}
    return select_best(
        samples,
        {m: store_dir / m for m in iterations},
        iterations=iterations,
        final_dir=final_dir,
        min_pass_rate=min_pass_rate,
        rungs=rungs,
    )


def heal_model(
    samples: dict,
    *,
    model: str,
    entry: dict | None,
    templates: Templates,
    out_dir: str | Path,
    max_iterations: int,
    min_pass_rate: float,
    cache_dir: str | Path | None = None,
    sandbox_options: dict | None = None,
    prompt_examples: int = 3,
    page_tokens: int = 8000,
    skip: str | None = None,
    skip_status: str = "cascade_skipped",
) -> list[dict]:
    """Run the heal loop of one model and write every iteration's files under ``out_dir/iter{n}/``.

    ``skip`` (a reason) writes every iteration with status ``skip_status`` and no model call:
    ``cascade_skipped`` when a cheaper rung already healed the store (:mod:`autoheal.cascade`),
    ``skipped`` for a store that is skipped.  Returns one short record per iteration.
    """
    out_dir = Path(out_dir)
    fields, types = samples["fields"], samples["types"]
    train = [Page.from_json(p) for p in samples["train"]]
    test = [Page.from_json(p) for p in samples["test"]]
    if skip:
        return [
            _write_skipped(out_dir / f"iter{n}", n, model, samples, (train, test), skip, skip_status)
            for n in range(max_iterations + 1)
        ]
    is_baseline = model == BASELINE
    model_obj = None
    if is_baseline:
        max_iterations = 0
    else:
        from .models import get_model

        replies = Path(cache_dir) / "replies" if cache_dir else None
        model_obj = get_model(model, entry or {}, cache_dir=replies)
    cache = _IterationCache(cache_dir)
    key_base = {
        "v": 1,
        "code": code_version(),
        "model": model,
        "entry": entry,
        "types": types,
        "train": [[p.page_id, p.truth] for p in train],
        "test": [[p.page_id, p.truth] for p in test],
        "sandbox": sandbox_options,
        "tier": _tier(),
    }
    records: list[dict] = []
    prev: dict | None = None  # the previous iteration's state
    for n in range(max_iterations + 1):
        it_dir = out_dir / f"iter{n}"
        if prev is not None and (prev["train"]["all_pct"] or 0) >= min_pass_rate and prev["script"]:
            records.append(_write_stopped(it_dir, n, prev, min_pass_rate, model, samples["store_id"]))
            continue
        if is_baseline:
            system, prompt = "", "(baseline: a fixed naive script, no model)"
        elif n == 0:
            system, prompt = first_prompt(
                templates, train, fields, types, examples=prompt_examples, page_tokens=page_tokens
            )
        else:
            system, prompt = improve_prompt(
                templates,
                fields,
                previous_script=prev["script"],
                previous_status=prev["status_line"],
                evaluation=prev["train"] if prev["script"] else None,
                failures=prev["failures"],
            )
        key = _iteration_key({**key_base, "system": system, "prompt": prompt})
        done = cache.get(key)
        restored = done is not None
        if done is None:
            done = _run_iteration(
                it_dir, model, model_obj, samples, n, (system, prompt), prev, (train, test), sandbox_options
            )
            if done["generation"].get("status") != "error":  # a failed call is retried next run
                cache.put(key, done)
        _write_iteration(it_dir, done, system, prompt, model, n, samples["store_id"])
        train_eval = done["train"]
        # Failures (with page fragments, the costly part) only feed the next iteration's prompt.
        needed = done["script"] and n < max_iterations
        failures = failures_of(train_eval, train, types, fragment=_fragment_fn()) if needed else []
        prev = {
            "script": done["script"],
            "train": train_eval,
            "test": done["test"],
            "failures": failures,
            "status_line": _status_line(done),
            "iteration": n,
        }
        records.append(
            {
                "model": model,
                "iteration": n,
                "status": train_eval["status"],
                "train_all_pct": train_eval["all_pct"],
                "test_all_pct": done["test"]["all_pct"],
                "restored": restored,
            }
        )
        log.info("%s iteration %d: %s%s", model, n, prev["status_line"], " (restored)" if restored else "")
    return records


def _tier() -> str | None:
    from .sandbox import probe_tier

    return probe_tier()


def _status_line(done: dict) -> str:
    gen = done["generation"]
    if not done["script"]:
        return f"FAILED ({gen.get('status')}): {gen.get('reason')}"
    ev = done["train"]
    return f"generated a script; {ev['pages_passed']}/{ev['pages']} train pages fully correct"


def _run_iteration(it_dir, model, model_obj, samples, n, prompts, prev, splits, sandbox_options):
    """Generate (or take the baseline) and evaluate one iteration; only the script is written."""
    fields, types = samples["fields"], samples["types"]
    (system, prompt), (train, test) = prompts, splits
    if model_obj is None:
        gen = _Generated(baseline_script(fields), "ok", None, {"status": "ok", "calls": 0})
    else:
        gen = _generate(
            model_obj,
            {
                "model": model,
                "prompt": prompt,
                "system": system,
                "store_id": samples["store_id"],
                "fields": tuple(fields),
                "types": dict(types),
                "pages": tuple(train),
                "iteration": n,
                "previous_script": prev["script"] if prev else None,
                "failures": tuple(prev["failures"]) if prev else (),
            },
            paid=getattr(model_obj, "provider", None) != "synth",
        )
    if gen.script is None:
        reason = gen.reason or gen.status
        return {
            "script": None,
            "generation": gen.accounting,
            "train": empty_evaluation(train, fields, gen.status, reason),
            "test": empty_evaluation(test, fields, gen.status, reason),
        }
    script = gen.script if gen.script.endswith("\n") else gen.script + "\n"
    script_path = it_dir / "script.py"
    atomic_write_text(script_path, script)
    opts = sandbox_options
    return {
        "script": script,
        "generation": gen.accounting,
        "train": evaluate_script(script_path, train, fields, types, sandbox_options=opts),
        "test": evaluate_script(script_path, test, fields, types, sandbox_options=opts),
    }


def _write_iteration(it_dir, done, system, prompt, model, n, store_id) -> None:
    prompt_text = (f"[system]\n{system}\n\n[prompt]\n" if system else "") + prompt
    atomic_write_text(it_dir / "prompt.txt", prompt_text + "\n")
    gen = done["generation"]
    script = done["script"] or f"# no script: {gen.get('status')}: {gen.get('reason')}\n"
    atomic_write_text(it_dir / "script.py", script)
    meta = {"model": model, "iteration": n, "store_id": store_id, "generation": gen}
    for split in ("train", "test"):
        atomic_write_json(it_dir / f"{split}.json", {**meta, "split": split, **done[split]})


def _write_skipped(it_dir, n, model, samples, splits, reason, status) -> dict:
    fields = samples["fields"]
    done = {
        "script": None,
        "generation": {"status": status, "reason": reason, "calls": 0},
        "train": empty_evaluation(splits[0], fields, status, reason),
        "test": empty_evaluation(splits[1], fields, status, reason),
    }
    _write_iteration(it_dir, done, "", f"({reason})", model, n, samples["store_id"])
    return {"model": model, "iteration": n, "status": status}


def _write_stopped(
    it_dir: Path, n: int, prev: dict, min_pass_rate: float, model: str, store_id: str
) -> dict:
    source = prev["iteration"]
    reason = (
        f"stopped: iteration {source} reached {prev['train']['all_pct']}% on train "
        f"(min_pass_rate {min_pass_rate}%); no model call"
    )
    atomic_write_text(it_dir / "prompt.txt", f"({reason})\n")
    script = prev["script"] or ""
    atomic_write_text(it_dir / "script.py", script if script.endswith("\n") else script + "\n")
    for split in ("train", "test"):
        doc = {**prev[split], "status": "stopped", "reason": reason, "copy_of_iteration": source}
        meta = {
            "model": model,
            "store_id": store_id,
            "iteration": n,
            "split": split,
            "generation": {"status": "stopped", "calls": 0},
        }
        atomic_write_json(it_dir / f"{split}.json", {**doc, **meta})
    return {"iteration": n, "status": "stopped", "copy_of_iteration": source}
