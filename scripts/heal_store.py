"""heal_store: one store's chain -- split its pages, heal with every model, select the best."""

from pathlib import Path

from autoheal.heal import heal_store
from autoheal.io import atomic_write_json
from autoheal.logs import log_to
from autoheal.prompts import Templates
from autoheal.samples import build_samples, load_store, store_index
from autoheal.select import write_best

log = log_to(snakemake.log[0])
inputs, params = snakemake.input, snakemake.params
store_id = params.store["store_id"]
index = store_index(inputs.data, params.cache_dir)
samples = build_samples(
    load_store(inputs.data, store_id, index),
    store_id=store_id,
    fields=index["fields"],
    test_fraction=params.test_fraction,
    min_samples=params.min_samples,
    configured_types=params.fields,
)
log.info("store %r: %d rows, %d train, %d test, skipped=%s", store_id, samples["rows"],
         len(samples["train"]), len(samples["test"]), samples["skipped"])
atomic_write_json(snakemake.output.samples, samples)
if "base" in inputs.keys():
    templates = Templates.load(inputs.base, inputs.first, inputs.get("improve", inputs.first))
else:  # a skipped store reads no prompt, so editing one never reruns it
    templates = Templates("", "", "")
best = heal_store(
    samples,
    models=params.models,
    templates=templates,
    store_dir=Path(snakemake.output.samples).parent,
    final_dir="results/final",
    max_iterations=params.max_iterations,
    cache_dir=params.cache_dir,
    **(params.store["heal"] or {}),  # None for a skipped store: placeholders only
)
log.info("store %r: %s, best=%s", store_id, best["status"], (best["best"] or {}).get("final_script"))
write_best(best, snakemake.output.best)
