"""apply_script: one store's new pages -> results/extracted/{store}.csv and its health check."""

from autoheal.apply import apply_to_store
from autoheal.io import atomic_write_json, atomic_write_text
from autoheal.logs import log_to

log = log_to(snakemake.log[0])
inputs = snakemake.input
text, health = apply_to_store(
    inputs.data,
    snakemake.params.store["store_id"],
    best_path=inputs.get("best"),
    samples_path=inputs.get("samples"),
    cache_dir=snakemake.params.cache_dir,
    sandbox_options=snakemake.params.sandbox,
    threshold=snakemake.params.health_threshold,
    training_data=snakemake.params.training_data,
)
log.info("store %r: %s, %d page(s), health %s (labelled pages %s) %s", health["store_id"],
         health["status"], health["pages"], health.get("health"), health.get("health_ref"),
         health.get("reason") or "")
atomic_write_text(snakemake.output.extracted, text)
atomic_write_json(snakemake.output.health, health)
