rule render_report:
    """Write results/report.html: plots and tables of the run, self-contained."""
    input:
        unpack(get_report_inputs),
    output:
        "results/report.html",
    log:
        "logs/render_report.log",
    conda:
        "../envs/autoheal.yaml"
    params:
        title="autoheal report",
    script:
        "../scripts/render_report.py"
