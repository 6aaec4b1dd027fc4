rule select_best:
    """Pick the store's best (model, iteration) on the test split; save the final script."""
    input:
        samples="results/stores/{store}/samples.json",
        candidates=get_candidates,
    output:
        "results/stores/{store}/best.json",
    params:
        models=MODELS,
        max_iterations=config["max_iterations"],
        min_pass_rate=config["min_pass_rate"],
    log:
        "logs/select_best/{store}.log",
    script:
        "../scripts/select_best.py"
