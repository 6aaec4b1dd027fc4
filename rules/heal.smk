rule heal_store:
    """Generate, run and improve one model's script for one store (all iterations)."""
    input:
        unpack(get_templates),
        samples="results/stores/{store}/samples.json",
        gate=get_gate,
    output:
        prompts=expand(
            "results/stores/{{store}}/{{model}}/iter{iter}/prompt.txt", iter=ITERATIONS
        ),
        scripts=expand(
            "results/stores/{{store}}/{{model}}/iter{iter}/script.py", iter=ITERATIONS
        ),
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


rule evaluate_baseline:
    """Score the naive baseline script on one store, for comparison."""
    input:
        samples="results/stores/{store}/samples.json",
    output:
        prompt="results/stores/{store}/baseline/iter0/prompt.txt",
        script="results/stores/{store}/baseline/iter0/script.py",
        train="results/stores/{store}/baseline/iter0/train.json",
        test="results/stores/{store}/baseline/iter0/test.json",
    log:
        "logs/evaluate_baseline/{store}.log",
    conda:
        "../envs/autoheal.yaml"
    params:
        sandbox=get_sandbox_options(),
    script:
        "../scripts/evaluate_baseline.py"
