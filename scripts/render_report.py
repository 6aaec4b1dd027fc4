"""render_report: the run's tables -> results/report.html (self-contained, plots embedded)."""

from autoheal.logs import log_to
from autoheal.report import render_report

log = log_to(snakemake.log[0])
inputs = snakemake.input
size = render_report(
    summary=inputs.summary,
    candidates=inputs.candidates,
    best_paths=list(inputs.best),
    health=inputs.get("health"),
    out=snakemake.output[0],
    title=snakemake.params.title,
)
log.info("wrote %s (%d bytes)", snakemake.output[0], size)
