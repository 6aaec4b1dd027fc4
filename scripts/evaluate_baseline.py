"""evaluate_baseline: score the naive baseline script on one store."""

from pathlib import Path

from autoheal.heal import BASELINE, heal_store
from autoheal.io import read_json
from autoheal.logs import log_to
from autoheal.prompts import Templates

log = log_to(snakemake.log[0])
records = heal_store(
    read_json(snakemake.input.samples),
    model=BASELINE,
    entry=None,
    templates=Templates("", "", ""),
    out_dir=Path(snakemake.output.script).parent.parent,
    max_iterations=0,
    min_pass_rate=100.0,
    sandbox_options=snakemake.params.sandbox,
)
log.info("%s", records)
