rule split_store:
    """Split one store's pages into train and test, measure label presence, score the baseline.

    The naive baseline (model ``baseline``) is scored here rather than in a job of its own: one
    job less per store keeps planning within budget at 10,000 stores (README, *Scale*).
    """
    input:
        data=ancient(config["data"]),
    output:
        samples="results/stores/{store}/samples.json",
        baseline_train="results/stores/{store}/baseline/iter0/train.json",
        baseline_test="results/stores/{store}/baseline/iter0/test.json",
    log:
        "logs/split_store/{store}.log",
    conda:
        "../envs/autoheal.yaml"
    params:
        store=get_store_entry,
        fields=config["fields"],
        test_fraction=config["test_fraction"],
        min_samples=config["min_samples_per_store"],
        cache_dir=config["cache_dir"],
        sandbox=unless_skipped(get_sandbox_options()),
    script:
        "../scripts/split_store.py"
