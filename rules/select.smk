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
        models=unless_skipped(MODELS),
        rungs=unless_skipped(get_rungs()),
        max_iterations=unless_skipped(config["max_iterations"]),
        min_pass_rate=unless_skipped(config["min_pass_rate"]),
    script:
        "../scripts/select_best.py"
