"""split_store: one store's rows -> samples.json, and the naive baseline's scores."""

from pathlib import Path

from autoheal.heal import BASELINE, heal_store
from autoheal.io import atomic_write_json
from autoheal.logs import log_to
from autoheal.prompts import Templates
from autoheal.samples import build_samples, load_store, store_index

log = log_to(snakemake.log[0])
store_id = snakemake.params.store["store_id"]
index = store_index(snakemake.input.data, snakemake.params.cache_dir)
pages = load_store(snakemake.input.data, store_id, index)
doc = build_samples(
    pages,
    store_id=store_id,
    fields=index["fields"],
    test_fraction=snakemake.params.test_fraction,
    min_samples=snakemake.params.min_samples,
    configured_types=snakemake.params.fields,
)
log.info("store %r: %d rows, %d train, %d test, skipped=%s", store_id, doc["rows"],
         len(doc["train"]), len(doc["test"]), doc["skipped"])
atomic_write_json(snakemake.output.samples, doc)
# The baseline (a fixed naive script, no model); a skipped store gets placeholder results.
records = heal_store(
    doc,
    model=BASELINE,
    entry=None,
    templates=Templates("", "", ""),
    out_dir=Path(snakemake.output.baseline_test).parent.parent,
    max_iterations=0,
    min_pass_rate=100.0,
    sandbox_options=snakemake.params.sandbox,
    cascade_skip=f"store skipped: {doc['skipped']}" if doc["skipped"] else None,
)
log.info("baseline: %s", records)
