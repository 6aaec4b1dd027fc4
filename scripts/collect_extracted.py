"""collect_extracted: every store's extracted CSV -> results/extracted/all.csv."""

from autoheal.apply import collect_extracted
from autoheal.logs import log_to

log = log_to(snakemake.log[0])
rows = collect_extracted(list(snakemake.input), snakemake.output[0])
log.info("%d row(s) from %d store(s)", rows, len(snakemake.input))
