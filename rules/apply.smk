rule apply_script:
    """Run one store's selected script on its new pages and check the script's health."""
    input:
        unpack(get_apply_inputs),
    output:
        extracted="results/extracted/{store}.csv",
        health="results/health/{store}.json",
    log:
        "logs/apply_script/{store}.log",
    wildcard_constraints:
        store=r"(?!all\.(?:csv|json)$)[a-z0-9][a-z0-9._-]*",
    conda:
        "../envs/autoheal.yaml"
    params:
        store=get_apply_entry,
        sandbox=get_sandbox_options(),
        health_threshold=config.get("health_threshold", 20),
        training_data=config["data"],
        cache_dir=config["cache_dir"],
    script:
        "../scripts/apply_script.py"


rule collect_extracted:
    """Concatenate every store's extracted values into results/extracted/all.csv."""
    input:
        get_all_extracted,
    output:
        "results/extracted/all.csv",
    log:
        "logs/collect_extracted.log",
    conda:
        "../envs/autoheal.yaml"
    script:
        "../scripts/collect_extracted.py"


rule summarize_health:
    """Aggregate the per-store health checks into results/health.tsv and print it."""
    input:
        get_all_health,
    output:
        "results/health.tsv",
    log:
        "logs/summarize_health.log",
    conda:
        "../envs/autoheal.yaml"
    params:
        trained=get_trained_stores(),
    script:
        "../scripts/summarize_health.py"
