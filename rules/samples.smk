rule split_store:
    """Split one store's pages into train and test and measure label presence."""
    input:
        data=ancient(config["data"]),
    output:
        "results/stores/{store}/samples.json",
    params:
        store=get_store_entry,
        fields=config["fields"],
        test_fraction=config["test_fraction"],
        min_samples=config["min_samples_per_store"],
        cache_dir=config["cache_dir"],
    log:
        "logs/split_store/{store}.log",
    script:
        "../scripts/split_store.py"
