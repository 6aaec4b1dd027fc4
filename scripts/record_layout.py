"""record_layout: write the (model, iteration) layout that every store job declares."""

from autoheal.io import atomic_write_json
from autoheal.logs import log_to

log = log_to(snakemake.log[0])
atomic_write_json(snakemake.output[0], snakemake.params.layout)
log.info("layout: %s", snakemake.params.layout)
