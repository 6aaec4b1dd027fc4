rule summarize_results:
    """Aggregate every store's selection into the summary tables and print them."""
    input:
        get_all_best(),
    output:
        summary="results/summary.tsv",
        candidates="results/candidates.tsv",
        text="results/summary.txt",
    log:
        "logs/summarize_results.log",
    conda:
        "../envs/autoheal.yaml"
    script:
        "../scripts/summarize_results.py"
