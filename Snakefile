"""autoheal: write and heal web-extraction scripts per store (see README.md)."""


configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/heal.smk"
include: "rules/summary.smk"
include: "rules/apply.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        "results/summary.tsv",
        "results/report.html",
        get_apply_targets(),
