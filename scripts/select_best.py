"""select_best: choose the store's best candidate and write best.json and the final script."""

from pathlib import Path

from autoheal.heal import BASELINE
from autoheal.io import read_json
from autoheal.logs import log_to
from autoheal.select import select_best, write_best

log = log_to(snakemake.log[0])
store_dir = Path(snakemake.output[0]).parent
models = list(snakemake.params.models or [])  # None for a skipped store
iterations = dict.fromkeys(models, snakemake.params.max_iterations)
iterations[BASELINE] = 0
doc = select_best(
    read_json(snakemake.input.samples),
    {m: store_dir / m for m in [*models, BASELINE]},
    iterations=iterations,
    final_dir="results/final",
    min_pass_rate=snakemake.params.min_pass_rate or 0.0,
    rungs=snakemake.params.rungs,
)
log.info("store %r: %s, best=%s", doc["store_id"], doc["status"], (doc["best"] or {}).get("final_script"))
write_best(doc, snakemake.output[0])
