rule heal_store:
    """Generate, run and improve one model's script for one store (all iterations)."""
    input:
        **TEMPLATES,
        samples="results/stores/{store}/samples.json",
        gate=get_gate,
    # Declared per iteration: train.json and test.json (prompt.txt and script.py are written
    # beside them, undeclared: fewer output files keep planning within budget, README *Scale*).
    output:
        train=expand(
            "results/stores/{{store}}/{{model}}/iter{iter}/train.json", iter=ITERATIONS
        ),
        test=expand(
            "results/stores/{{store}}/{{model}}/iter{iter}/test.json", iter=ITERATIONS
        ),
    log:
        "logs/heal_store/{store}/{model}.log",
    benchmark:
        "benchmarks/heal_store/{store}/{model}.tsv"
    conda:
        "../envs/autoheal.yaml"
    resources:
        llm_calls=1,
    params:
        entry=lambda wildcards: config["model_registry"][wildcards.model],
        max_iterations=config["max_iterations"],
        min_pass_rate=config["min_pass_rate"],
        prompt_examples=config["prompt_examples"],
        prompt_page_tokens=config["prompt_page_tokens"],
        sandbox=get_sandbox_options(),
        cache_dir=config["cache_dir"],
    script:
        "../scripts/heal_store.py"
