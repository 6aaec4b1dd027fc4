rule select_best:
    """Pick the store's best (model, iteration) on the test split; save the final script."""
    input:
        samples="results/stores/{store}/samples.json",
        candidates=get_candidates,
    output:
        "results/stores/{store}/best.json",
    log:
        "logs/select_best/{store}.log",
    conda:
        "../envs/autoheal.yaml"
    params:
        models=MODELS,
        rungs=get_rungs(),
        max_iterations=config["max_iterations"],
        min_pass_rate=config["min_pass_rate"],
    script:
        "../scripts/select_best.py"
