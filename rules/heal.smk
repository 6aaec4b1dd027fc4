rule heal_store:
    """One store's whole chain in one job: split its pages into train and test (autoheal.samples),
    heal with every model, cheapest cascade rung first (autoheal.heal), select the best on test
    (autoheal.select).  One job per store keeps planning within budget at 10,000 stores
    (README, *Scale*); every (model, iteration) still has its own file target."""
    input:
        unpack(get_heal_inputs),
    # Declared: samples.json, best.json and each iteration's test.json (train.json, prompt.txt,
    # script.py and the final script are written beside them, undeclared: every declared file
    # costs planning time).
    output:
        samples="results/stores/{store}/samples.json",
        iterations=get_iteration_targets(),
        best="results/stores/{store}/best.json",
    log:
        "logs/heal_store/{store}.log",
    benchmark:
        "benchmarks/heal_store/{store}.tsv"
    conda:
        "../envs/autoheal.yaml"
    resources:
        llm_calls=LLM_CALLS,
    # Few callables: Snakemake inspects each one's signature for every job (planning time).
    params:
        store=get_store_params,
        fields=config["fields"],
        test_fraction=config["test_fraction"],
        min_samples=config["min_samples_per_store"],
        models=MODEL_ENTRIES,  # a skipped store writes placeholders for each model
        max_iterations=config["max_iterations"],  # also in LAYOUT, see rule record_layout
        cache_dir=config["cache_dir"],
    script:
        "../scripts/heal_store.py"


# A one-line file: written by the main process, never submitted to a cluster.
localrules:
    record_layout,


rule record_layout:
    """Record which (model, iteration) files every store job declares.

    A store job whose declared files grow (a model added, max_iterations raised) is not rerun by
    Snakemake's params trigger, which gives up when an output has no metadata yet, nor by the
    missing files, which nothing downstream asks for. This job's params are the layout; when
    they change it rewrites the file every store job reads, so every store job reruns.
    """
    output:
        LAYOUT,
    log:
        "logs/record_layout.log",
    conda:
        "../envs/autoheal.yaml"
    params:
        layout={"models": list(MODEL_ENTRIES), "iterations": ITERATIONS},
    script:
        "../scripts/record_layout.py"
