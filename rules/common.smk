"""Parse-time helpers: config validation, the store index, target lists and input functions."""

from autoheal.cascade import RUNG_NAMES, heal_models, lower_rungs, rung
from autoheal.config import check_config, check_keys
from autoheal.samples import index_warnings, select_stores, skip_reason, store_index

check_config(config, workflow.source_path("../schemas/config.schema.yaml"))

INDEX = store_index(config["data"], config["cache_dir"])
STORES = select_stores(INDEX, config["stores"])  # slug -> store entry (with "store_id")
if workflow.is_main_process:
    for warning in index_warnings(INDEX):
        logger.warning(f"autoheal: {warning}")
REGISTRY = config["model_registry"]
MODELS = heal_models(config["models"], REGISTRY, config["cascade"])
KEY_VARIABLES = check_keys(MODELS, REGISTRY)  # names only; a missing key stops here


envvars:
    *KEY_VARIABLES,


ITERATIONS = list(range(config["max_iterations"] + 1))


wildcard_constraints:
    store="[a-z0-9][a-z0-9._-]*",


def is_skipped(store):
    entry = STORES[store]
    reason = skip_reason(entry, config["min_samples_per_store"], entry["store_id"])
    return reason is not None


# Prompt templates: plain inputs (evaluated once, not once per job).
TEMPLATES = {"base": "prompts/base.md", "first": "prompts/first.md"}
if config["max_iterations"] > 0:
    TEMPLATES["improve"] = "prompts/improve.md"


def get_heal_inputs(wildcards):
    """The CSV (ancient: the store's content hash, a param, decides reruns) and the prompt
    templates, which a skipped store does not read (so editing them never reruns it)."""
    inputs = {"data": ancient(config["data"]), "layout": LAYOUT}
    if not is_skipped(wildcards.store):
        inputs.update(TEMPLATES)
    return inputs


# Written by record_layout; outside results/stores, where a store slug could clash with it.
LAYOUT = "results/layout.json"


def get_iteration_targets():
    """Each (model, iteration)'s test.json of one store, and the baseline's."""
    # ("baseline" is autoheal.heal.BASELINE, spelled out: importing heal costs parse time)
    pairs = [("baseline", 0)] + [(m, n) for m in MODELS for n in ITERATIONS]
    return [f"results/stores/{{store}}/{m}/iter{n}/test.json" for m, n in pairs]


# Registry entries in run order (cheapest rung first) and, per model, the cheaper models
# whose train results may let it skip a store (the cost cascade, autoheal.cascade).
MODEL_ENTRIES = {
    m: REGISTRY[m] for m in sorted(MODELS, key=lambda m: rung(REGISTRY[m]))
}
GATES = {
    m: lower_rungs(m, config["models"], REGISTRY, config["cascade"])
    for m in MODEL_ENTRIES
}
# A store job holds one llm_calls unit (the --resources cap) only when a model calls an API.
LLM_CALLS = int(any(rung(REGISTRY[m]) > 0 for m in MODELS))


def get_sandbox_options():
    return {
        "min_tier": config["sandbox_min_tier"],
        "soft_timeout_s": config["sandbox_soft_timeout_s"],
        "hard_timeout_s": config["sandbox_hard_timeout_s"],
        "load_timeout_s": config["sandbox_load_timeout_s"],
    }


def get_all_best():
    return expand("results/stores/{store}/best.json", store=sorted(STORES))


def get_rungs():
    return {m: RUNG_NAMES[rung(REGISTRY[m])] for m in MODELS}


# --- applying the selected scripts to new pages (rules/apply.smk) and the report ---

from autoheal.apply import apply_index

APPLY_DATA = config.get("apply_data") or None
APPLY_INDEX = apply_index(APPLY_DATA, config["cache_dir"]) if APPLY_DATA else None
APPLY_STORES = {
    e["slug"]: {**e, "store_id": s}
    for s, e in (APPLY_INDEX or {"stores": {}})["stores"].items()
}


def require_apply_data():
    if APPLY_INDEX is None:
        raise ValueError(
            "config key 'apply_data' is not set: point it at a CSV of new pages "
            "(STORE_ID, RAW_DOM), e.g. --config apply_data=store_data/new_pages.csv"
        )


def get_apply_inputs(wildcards):
    require_apply_data()
    if wildcards.store not in APPLY_STORES:
        raise ValueError(
            f"store {wildcards.store!r} has no page in apply_data ({APPLY_DATA})"
        )
    inputs = {"data": ancient(APPLY_DATA)}
    if wildcards.store in STORES:
        inputs["best"] = f"results/stores/{wildcards.store}/best.json"
        inputs["samples"] = f"results/stores/{wildcards.store}/samples.json"
    return inputs


def get_apply_entry(wildcards):
    entry = APPLY_STORES[wildcards.store]
    return {"store_id": entry["store_id"], "sha256": entry["sha256"]}


def get_all_extracted(wildcards):
    require_apply_data()
    return expand("results/extracted/{store}.csv", store=sorted(APPLY_STORES))


def get_all_health(wildcards):
    require_apply_data()
    return expand("results/health/{store}.json", store=sorted(APPLY_STORES))


def get_trained_stores():
    return [{"store_id": e["store_id"], "slug": s} for s, e in sorted(STORES.items())]


def get_apply_targets():
    """What `rule all` adds when apply_data is set (nothing otherwise)."""
    return ["results/extracted/all.csv", "results/health.tsv"] if APPLY_INDEX else []


def get_report_inputs(wildcards):
    inputs = {
        "summary": "results/summary.tsv",
        "candidates": "results/candidates.tsv",
        "best": get_all_best(),
    }
    if APPLY_INDEX:
        inputs["health"] = "results/health.tsv"
    return inputs


# The heal settings of a store that is not skipped (a skipped store gets None, so changing
# them never reruns it).
# Keys are autoheal.heal.heal_store's keyword arguments.
HEAL_SETTINGS = {
    "gates": GATES,
    "rungs": get_rungs(),
    "min_pass_rate": config["min_pass_rate"],
    "prompt_examples": config["prompt_examples"],
    "page_tokens": config["prompt_page_tokens"],
    "sandbox_options": get_sandbox_options(),
}


def get_store_params(wildcards):
    """The store's id and content hash (a change reruns it) and, unless it is skipped, the
    heal settings: one callable for all of them keeps planning cheap."""
    entry = STORES[wildcards.store]
    return {
        "store_id": entry["store_id"],
        "sha256": entry["sha256"],
        "heal": None if is_skipped(wildcards.store) else HEAL_SETTINGS,
    }
