rule split_store:
    """Split one store's pages into train and test and measure label presence."""
    input:
        data=ancient(config["data"]),
    output:
        "results/stores/{store}/samples.json",
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
    script:
        "../scripts/split_store.py"
