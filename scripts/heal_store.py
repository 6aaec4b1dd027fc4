"""heal_store: the prompt -> script -> evaluation loop of one (store, model)."""

from pathlib import Path

from autoheal.cascade import gate
from autoheal.heal import heal_store
from autoheal.io import read_json
from autoheal.logs import log_to
from autoheal.prompts import Templates

log = log_to(snakemake.log[0])
inputs = snakemake.input
cascade_skip = gate([read_json(p) for p in inputs.gate], snakemake.params.min_pass_rate)
templates = Templates.load(inputs.base, inputs.first, inputs.get("improve", inputs.first))
records = heal_store(
    read_json(inputs.samples),
    model=snakemake.wildcards.model,
    entry=snakemake.params.entry,
    templates=templates,
    out_dir=Path(snakemake.output.train[0]).parent.parent,
    max_iterations=snakemake.params.max_iterations,
    min_pass_rate=snakemake.params.min_pass_rate,
    cache_dir=snakemake.params.cache_dir,
    sandbox_options=snakemake.params.sandbox,
    prompt_examples=snakemake.params.prompt_examples,
    page_tokens=snakemake.params.prompt_page_tokens,
    cascade_skip=cascade_skip,
)
for record in records:
    log.info("%s", record)
