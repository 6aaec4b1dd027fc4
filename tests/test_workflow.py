"""End-to-end and incremental-rebuild tests: real Snakemake on a temporary copy of the workflow.

One full run is made per module (``built``); each test copies that finished project, including
Snakemake's metadata in ``.snakemake/``, so tests are independent and each pays only for the
change it makes.
"""

from __future__ import annotations

import csv
import shutil

import pytest
from snakerun import copy_workflow, planned, run, write_data

pytestmark = pytest.mark.slow

STORES = {"alpha": 6, "Beta Shop/EU": 6, "gamma": 5, "solo": 1}
BETA = "beta-shop-eu-b2fe3b97"


def store_jobs(slug: str):
    """One store's chain is one job (split, every model's loop, selection: README *Scale*)."""
    return [("heal_store", f"store={slug}")]


AGGREGATE = [("summarize_results", "")]  # the target is summary.tsv, so no "all" job


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("golden"))
    write_data(work / "data.csv", STORES)
    (work / "config.yaml").write_text(
        (work / "config.yaml")
        .read_text()
        .replace("data: store_data/Store_OCP_Data.csv", "data: data.csv")
    )
    proc = run(work, "results/summary.tsv")
    return work, proc


@pytest.fixture
def project(built, tmp_path):
    work, _ = built
    dest = tmp_path / "project"
    shutil.copytree(work, dest, symlinks=True)
    return dest


def read_summary(work):
    with open(work / "results" / "summary.tsv", newline="", encoding="utf-8") as handle:
        return {row["store_id"]: row for row in csv.DictReader(handle, delimiter="\t")}


def test_full_run_writes_summary_finals_and_prints_table(built):
    work, proc = built
    summary = read_summary(work)
    assert set(summary) == set(STORES)
    assert summary["solo"]["status"] == "skipped"
    assert "min_samples_per_store" in summary["solo"]["reason"]
    for store in ("alpha", "Beta Shop/EU", "gamma"):
        row = summary[store]
        assert row["model"] == "synth" and row["status"] in ("healed", "below_target")
        assert (work / row["script"]).exists()
        assert row["script"].startswith("results/final/final_")
    assert "AVERAGE" in proc.stdout and "Best model distribution" in proc.stdout
    assert "LABEL PRESENCE" in proc.stdout
    with open(work / "results" / "candidates.tsv", newline="") as handle:
        cand = list(csv.DictReader(handle, delimiter="\t"))
    assert {r["model"] for r in cand} == {"synth", "baseline"}
    assert len(cand) == 3 * (2 + 1)  # 3 stores x (2 synth iterations + baseline)


def test_second_run_does_nothing(project):
    assert planned(project, "results/summary.tsv") == []


def test_editing_one_store_reruns_only_that_store(project):
    write_data(project / "data.csv", STORES, edits={"gamma": " (edited)"})
    assert planned(project, "results/summary.tsv") == sorted(store_jobs("gamma") + AGGREGATE)


def test_adding_a_store_runs_only_the_new_store(project):
    write_data(project / "data.csv", {**STORES, "delta": 4})
    assert planned(project, "results/summary.tsv") == sorted(store_jobs("delta") + AGGREGATE)


def test_deleting_a_store_drops_it_from_the_summary(project):
    stores = {k: v for k, v in STORES.items() if k != "gamma"}
    write_data(project / "data.csv", stores)
    assert planned(project, "results/summary.tsv") == sorted(AGGREGATE)
    final_before = list((project / "results" / "final").glob("final_gamma_*"))
    assert final_before
    run(project, "results/summary.tsv")
    assert set(read_summary(project)) == set(stores)
    assert not list((project / "results" / "final").glob("final_gamma_*"))


def test_editing_improve_prompt_reruns_only_jobs_reading_it(project):
    path = project / "prompts" / "improve.md"
    path.write_text(path.read_text() + "\nBe careful with currencies.\n")
    expected = []
    for slug in ("alpha", BETA, "gamma"):  # not solo: a skipped store reads no prompt
        expected += store_jobs(slug)
    assert planned(project, "results/summary.tsv") == sorted(expected + AGGREGATE)


def test_raising_max_iterations_runs_only_new_iterations(project):
    # Half of alpha's labels are wrong, so no iteration reaches min_pass_rate and none stops early.
    write_data(project / "data.csv", STORES, mislabel="alpha")
    run(project, "results/summary.tsv")
    store_dir = project / "results" / "stores" / "alpha" / "synth"
    before = {p.relative_to(store_dir): p.read_bytes() for p in store_dir.rglob("*") if p.is_file()}
    assert "stopped" not in (store_dir / "iter1" / "train.json").read_text()
    assert not (store_dir / "iter2").exists()
    # Every store gains declared iteration files (record_layout notes the new layout), so every
    # store job reruns (the skipped solo just writes placeholders); finished iterations come
    # back from the iteration cache.
    expected = sum((store_jobs(s) for s in ("alpha", BETA, "gamma", "solo")), [("record_layout", "")])
    assert planned(project, "results/summary.tsv", "--config", "max_iterations=2") == sorted(
        expected + AGGREGATE
    )
    run(project, "results/summary.tsv", "--config", "max_iterations=2")
    after = {p.relative_to(store_dir): p.read_bytes() for p in store_dir.rglob("*") if p.is_file()}
    for name, content in before.items():
        assert after[name] == content, f"{name} changed although its iteration did not"
    assert (store_dir / "iter2" / "test.json").exists()
    log = (project / "logs" / "heal_store" / "alpha.log").read_text()
    restored = [line for line in log.splitlines() if "synth iteration" in line and "(restored)" in line]
    assert [line.split("synth ")[1][:11] for line in restored] == ["iteration 0", "iteration 1"]
    assert "synth iteration 2:" in log and "iteration 2: generated" in log
    assert planned(project, "results/summary.tsv", "--config", "max_iterations=2") == []


def test_single_store_target_builds_only_that_store(built, tmp_path):
    work = copy_workflow(tmp_path / "fresh")
    shutil.copy2(built[0] / "data.csv", work / "data.csv")
    shutil.copy2(built[0] / "config.yaml", work / "config.yaml")
    jobs = planned(work, "results/stores/alpha/best.json")
    assert jobs == sorted(store_jobs("alpha") + [("record_layout", "")])


def test_single_store_target_sees_a_new_model(project):
    """Adding a model adds declared files that nothing downstream asks for: record_layout is
    what makes the store job rerun, for a single-store target too."""
    (project / "two.yaml").write_text(
        "models: [synth, synth2]\nmodel_registry:\n  synth2: {provider: synth, model: synth, tier: fast,"
        " max_output_tokens: 0, temperature: 0.0, price_input_per_mtok: 0.0, price_output_per_mtok: 0.0}\n"
    )
    jobs = planned(project, "results/stores/alpha/best.json", "--configfile", "two.yaml")
    assert jobs == sorted(store_jobs("alpha") + [("record_layout", "")])
    run(project, "results/stores/alpha/best.json", "--configfile", "two.yaml")
    assert (project / "results" / "stores" / "alpha" / "synth2" / "iter1" / "test.json").exists()


@pytest.mark.parametrize(
    "override, message",
    [
        ("max_iterations=7", "config key 'max_iterations'"),
        ("min_pass_rate=150", "config key 'min_pass_rate'"),
        ("models=[nosuchmodel]", "config key 'models': 'nosuchmodel' is not in model_registry"),
        ("data=missing.csv", "config key 'data': input file 'missing.csv' does not exist"),
        ("test_fraction=abc", "config key 'test_fraction'"),
        ("bogus_key=1", "unknown key(s) 'bogus_key'"),
    ],
)
def test_bad_config_is_one_clear_line_before_any_job(project, override, message):
    proc = run(project, "-n", "results/summary.tsv", "--config", override, check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
