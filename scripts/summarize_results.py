"""summarize_results: every best.json -> summary.tsv, candidates.tsv, summary.txt (printed)."""

from pathlib import Path

from autoheal.logs import log_to
from autoheal.summary import summarize

log_to(snakemake.log[0])
text = summarize(list(snakemake.input), Path(snakemake.output.summary).parent)
print(text, flush=True)
