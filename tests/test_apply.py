"""Applying the selected scripts to new, unlabelled pages (autoheal.apply), unit level and
with real Snakemake runs on a small copy of the workflow."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from snakerun import copy_workflow, planned, run, store_page, write_data

from autoheal import demo
from autoheal.apply import (
    apply_index,
    apply_store,
    collect_extracted,
    extracted_csv,
    load_new_pages,
    summarize_health,
)
from autoheal.io import atomic_write_json
from autoheal.page import Page
from autoheal.samples import InputError

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = '''
import re

def extract(html):
    if "CRASH" in html:
        raise RuntimeError("boom")
    oid = re.search(r"Order #(\\w+)", html)
    sub = re.search(r"id='subtotal'>([^<]+)<", html)
    return {"ORDER_ID": oid and oid.group(1), "SUBTOTAL": sub and sub.group(1)}
'''


def write_new_pages(path: Path, rows: list[tuple[str, str]], extra_header: list[str] | None = None):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["STORE_ID", "RAW_DOM", *(extra_header or [])])
        for row in rows:
            writer.writerow([*row, *([""] * len(extra_header or []))])
    return path


def changed_page(store: str, i: int) -> str:
    """The store's new template: the subtotal lost its id and caption."""
    _, html, _, subtotal = store_page(store, i)
    return html.replace(f"<td>Subtotal</td><td id='subtotal'>${subtotal}</td>", f"<td>Items ${subtotal}</td>")


def test_apply_index_needs_no_labels_and_reads_only_a_stores_rows(tmp_path):
    rows = [("alpha", store_page("alpha", i)[1]) for i in range(3)] + [("beta", "<p>b</p>")]
    path = write_new_pages(tmp_path / "new.csv", rows, extra_header=["GROUND_TRUTH_X"])
    index = apply_index(path, tmp_path / "cache")
    assert set(index["stores"]) == {"alpha", "beta"} and index["stores"]["alpha"]["rows"] == 3
    assert apply_index(path, tmp_path / "cache") == index  # cached
    pages = load_new_pages(path, "alpha", index)
    assert [p.row for p in pages] == [1, 2, 3] and all(p.truth == {} for p in pages)
    assert load_new_pages(path, "nobody", index) == []


@pytest.mark.parametrize(
    "content, message",
    [
        ("STORE_ID,HTML\nx,y\n", "missing required column 'RAW_DOM'"),
        ("", "the file is empty"),
        ("STORE_ID,RAW_DOM\nall,<p>x</p>\n", "would overwrite results/extracted/all.csv"),
    ],
)
def test_apply_index_errors_name_the_problem(tmp_path, content, message):
    path = tmp_path / "new.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        apply_index(path)
    with pytest.raises(InputError, match="config key 'apply_data'"):
        apply_index(tmp_path / "missing.csv")


def _best(tmp_path: Path, script: str | None) -> tuple[dict, dict]:
    labelled = [store_page("alpha", i) for i in range(8)]
    samples = {
        "train": [Page(f"p{i}", r[1], {"ORDER_ID": r[2], "SUBTOTAL": r[3]}, i + 1).to_json()
                  for i, r in enumerate(labelled)],
        "test": [],
    }
    best = {"store_id": "alpha", "slug": "alpha", "fields": ["ORDER_ID", "SUBTOTAL"],
            "types": {"ORDER_ID": "id", "SUBTOTAL": "money"}, "status": "healed",
            "skipped": None, "best": None}
    if script:
        path = tmp_path / "final_alpha_synth_iter0.py"
        path.write_text(script)
        best["best"] = {"final_script": str(path), "model": "synth", "iteration": 0}
    return best, samples


def test_apply_store_extracts_and_passes_a_healthy_store(tmp_path):
    best, samples = _best(tmp_path, SCRIPT)
    pages = [Page(f"n{i}", store_page("alpha", 20 + i)[1], {}, i + 1) for i in range(6)]
    fields, rows, health = apply_store("alpha", pages, best, samples)
    assert fields == ["ORDER_ID", "SUBTOTAL"]
    assert [r["ORDER_ID"] for r in rows] == [store_page("alpha", 20 + i)[2] for i in range(6)]
    assert all(r["status"] == "ok" and r["script_version"] and r["model"] == "synth" for r in rows)
    assert health["status"] == "healthy" and health["health"] == 100.0
    text = extracted_csv(rows, fields)
    header = next(csv.reader(io.StringIO(text)))
    assert header[:5] == ["STORE_ID", "row", "page_id", "ORDER_ID", "SUBTOTAL"]
    assert {"script", "script_version", "model", "iteration", "status", "error"} <= set(header)


def test_apply_store_flags_a_changed_template_and_crashes(tmp_path):
    best, samples = _best(tmp_path, SCRIPT)
    pages = [Page(f"n{i}", changed_page("alpha", 20 + i), {}, i + 1) for i in range(5)]
    pages.append(Page("c", "<p>CRASH</p>", {}, 9))
    _, rows, health = apply_store("alpha", pages, best, samples, data="train.csv")
    assert health["status"] == "drifted" and health["drifted_fields"] == ["SUBTOTAL"]
    assert "SUBTOTAL: health 0%" in health["reason"]
    assert "results/stores/alpha/best.json" in health["heal_command"]
    assert "train.csv" in health["next_step"]
    assert rows[-1]["status"] == "exception" and "boom" in rows[-1]["error"]
    assert health["crash_pct"] == pytest.approx(16.7)


def test_stores_without_a_script_are_reported(tmp_path):
    best, samples = _best(tmp_path, None)
    best["skipped"] = "1 distinct page(s) < min_samples_per_store=2"
    pages = [Page("n", "<p>x</p>", {}, 1)]
    fields, rows, health = apply_store("alpha", pages, best, samples)
    assert health["status"] == "no_script" and "min_samples" in health["reason"]
    assert rows[0]["status"] == "no_script" and rows[0]["ORDER_ID"] is None
    _, rows, health = apply_store("zeta", pages, None, None)
    assert health["status"] == "unknown_store" and rows[0]["status"] == "unknown_store"


def test_collect_and_summarize(tmp_path):
    best, samples = _best(tmp_path, SCRIPT)
    good = [Page("n", store_page("alpha", 30)[1], {}, 1)]
    fields, rows, health = apply_store("alpha", good, best, samples)
    (tmp_path / "alpha.csv").write_text(extracted_csv(rows, fields))
    _, rows2, health2 = apply_store("zeta", good, None, None)
    (tmp_path / "zeta.csv").write_text(extracted_csv(rows2, []))
    n = collect_extracted([tmp_path / "alpha.csv", tmp_path / "zeta.csv"], tmp_path / "all.csv")
    assert n == 2
    with open(tmp_path / "all.csv", newline="") as handle:
        merged = list(csv.DictReader(handle))
    assert merged[0]["ORDER_ID"] and merged[1]["status"] == "unknown_store"
    atomic_write_json(tmp_path / "alpha.json", health)
    atomic_write_json(tmp_path / "zeta.json", health2)
    text = summarize_health([tmp_path / "alpha.json", tmp_path / "zeta.json"], tmp_path / "health.tsv",
                            [{"store_id": "alpha", "slug": "alpha"}, {"store_id": "beta", "slug": "beta"}])
    with open(tmp_path / "health.tsv", newline="") as handle:
        table = list(csv.DictReader(handle, delimiter="\t"))
    assert [r["status"] for r in table] == ["unknown_store", "healthy", "no_new_pages"]
    assert "SUBTOTAL_health" in table[0]
    assert "HEALTH" in text and "beta" in text


def test_committed_demo_new_pages_regenerate_byte_identically():
    committed = ROOT / "store_data" / "new_pages.csv"
    assert committed.read_text(encoding="utf-8") == demo.render_new_pages_csv(), (
        "store_data/new_pages.csv is stale: run autoheal demo --new-pages store_data/new_pages.csv"
    )


# --------------------------------------------------------------------------------------------
# Real Snakemake runs
# --------------------------------------------------------------------------------------------

STORES = {"alpha": 8, "gamma": 8, "solo": 1}
TARGETS = ("results/extracted/all.csv", "results/health.tsv")


def new_rows(edit: str = "") -> list[tuple[str, str]]:
    rows = [("alpha", store_page("alpha", 40 + i)[1].replace("Thanks", f"Thanks{edit}")) for i in range(6)]
    rows += [("gamma", changed_page("gamma", 40 + i)) for i in range(6)]
    rows += [("solo", store_page("solo", 3)[1]), ("newcomer", "<p>hello</p>")]
    return rows


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("apply"))
    write_data(work / "data.csv", STORES)
    write_new_pages(work / "new.csv", new_rows())
    config = (work / "config.yaml").read_text()
    config = config.replace("data: store_data/Store_OCP_Data.csv", "data: data.csv")
    (work / "config.yaml").write_text(config.replace('apply_data: ""', "apply_data: new.csv"))
    proc = run(work, *TARGETS)
    return work, proc


@pytest.fixture
def project(applied, tmp_path):
    dest = tmp_path / "project"
    shutil.copytree(applied[0], dest, symlinks=True)
    return dest




def read_tsv(path: Path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {r["store_id"]: r for r in csv.DictReader(handle, delimiter="\t")}


@pytest.mark.slow
def test_apply_run_extracts_values_and_flags_the_changed_store(applied):
    work, proc = applied
    health = read_tsv(work / "results" / "health.tsv")
    assert health["gamma"]["status"] == "drifted" and health["gamma"]["drifted_fields"] == "SUBTOTAL"
    assert "results/stores/gamma/best.json" in health["gamma"]["heal_command"]
    assert health["alpha"]["status"] == "healthy"
    assert health["solo"]["status"] == "no_script" and health["newcomer"]["status"] == "unknown_store"
    assert "Drifted stores" in proc.stdout
    with open(work / "results" / "extracted" / "all.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    alpha = [r for r in rows if r["STORE_ID"] == "alpha"]
    assert [r["ORDER_ID"] for r in alpha] == [store_page("alpha", 40 + i)[2] for i in range(6)]
    assert all(r["script"].startswith("results/final/final_alpha_") and r["script_version"] for r in alpha)
    assert (work / "results" / "extracted" / "gamma.csv").exists()


@pytest.mark.slow
def test_apply_second_run_does_nothing(project):
    assert planned(project, *TARGETS) == []


@pytest.mark.slow
def test_editing_one_stores_new_pages_reruns_only_that_store(project):
    write_new_pages(project / "new.csv", new_rows(edit=" again"))
    assert planned(project, *TARGETS) == sorted(
        [("apply_script", "store=alpha"), ("collect_extracted", ""), ("summarize_health", "")]
    )


@pytest.mark.slow
def test_apply_targets_without_apply_data_stop_with_the_key(project):
    proc = run(project, "-n", *TARGETS, "--config", "apply_data=", check=False)
    assert proc.returncode != 0
    assert "config key 'apply_data' is not set" in proc.stdout + proc.stderr
