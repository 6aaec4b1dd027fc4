"""split_store: one store's rows -> results/stores/{store}/samples.json."""

from autoheal.io import atomic_write_json
from autoheal.logs import log_to
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
atomic_write_json(snakemake.output[0], doc)
