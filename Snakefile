"""autoheal: write and heal web-extraction scripts per store (see README.md)."""


configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/samples.smk"
include: "rules/heal.smk"
include: "rules/select.smk"
include: "rules/summary.smk"


rule all:
    input:
        "results/summary.tsv",
    default_target: True
