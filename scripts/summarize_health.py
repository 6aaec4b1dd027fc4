"""summarize_health: every store's health check -> results/health.tsv (drifted stores printed)."""

from autoheal.apply import summarize_health
from autoheal.logs import log_to

log_to(snakemake.log[0])
text = summarize_health(list(snakemake.input), snakemake.output[0], snakemake.params.trained)
print(text, flush=True)
