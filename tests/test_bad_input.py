"""Messy real-world input: each case either works or stops with one line naming the problem."""

from __future__ import annotations

import csv
import shutil

import pytest
from snakerun import copy_workflow, run

from autoheal.samples import (
    InputError,
    build_samples,
    index_warnings,
    load_store,
    read_stores,
    store_index,
)

HEADER = "STORE_ID,RAW_DOM,GROUND_TRUTH_ORDER_ID,GROUND_TRUTH_SUBTOTAL\n"


def write(tmp_path, text: str | bytes, name="in.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_binary_file_is_not_a_csv(tmp_path):
    path = write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    with pytest.raises(InputError, match="not a CSV file"):
        store_index(path)


def test_header_only_has_no_data_rows(tmp_path):
    with pytest.raises(InputError, match="no data rows"):
        store_index(write(tmp_path, HEADER))


def test_unknown_extra_columns_are_ignored_and_warned_once(tmp_path):
    path = write(tmp_path, "STORE_ID,RAW_DOM,NOTES,GROUND_TRUTH_X\na,<p>1</p>,secret note,1\n")
    index = store_index(path)
    assert index_warnings(index) == [f"{path}: ignoring unknown column(s) NOTES (never sent to models)"]
    page = read_stores(path)["a"][0]
    assert "secret note" not in repr(page)


def test_cp1252_rows_are_decoded_and_reported(tmp_path):
    good = 'a,"<p>Total 5,00 \u20ac</p>",1,5.00\n'.encode()
    latin = 'a,"<p>Gr\u00fc\u00dfe 7,00 \u20ac</p>",2,7.00\n'.encode("cp1252")
    path = write(tmp_path, HEADER.encode() + good + latin)
    index = store_index(path)
    assert index["recoded_rows"] == [2]
    assert "row(s) 2 are not valid UTF-8" in index_warnings(index)[0]
    pages = load_store(path, "a", index)
    assert "Gr\u00fc\u00dfe 7,00 \u20ac" in pages[1].html


def test_mixed_line_endings_nul_bytes_and_utf8_bom(tmp_path):
    data = ("\ufeff" + HEADER).encode() + b"a,<p>1\x00</p>,1,1.00\r\na,\"<p>\r\n2</p>\",2,2.00\nb,<p>3</p>,3,3.00\r"
    path = write(tmp_path, data)
    stores = read_stores(path)
    assert [len(stores["a"]), len(stores["b"])] == [2, 1]
    assert "\x00" in stores["a"][0].html
    assert load_store(path, "a", store_index(path)) == stores["a"]


def test_huge_cells_beyond_the_default_csv_limit(tmp_path):
    page = "<html><body>" + "<p>filler text</p>" * 3_000_000 + "<b>Order #X1</b></body></html>"  # ~54 MB
    with open(tmp_path / "big.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["STORE_ID", "RAW_DOM", "GROUND_TRUTH_ORDER_ID"], ["big", page, "X1"]])
    pages = load_store(tmp_path / "big.csv", "big", store_index(tmp_path / "big.csv"))
    assert len(pages[0].html) > 50_000_000


def test_nan_looking_labels_and_whitespace(tmp_path):
    path = write(tmp_path, HEADER + 'a,<p>x</p>,"  N/A ",nan\na,<p>y</p>,None,\n')
    truths = [p.truth for p in read_stores(path)["a"]]
    assert truths == [{"ORDER_ID": "N/A", "SUBTOTAL": "nan"}, {"ORDER_ID": "None", "SUBTOTAL": None}]


def test_empty_raw_dom_is_dropped_and_reported(tmp_path):
    path = write(tmp_path, HEADER + "a,,1,1.00\na,<p>2</p>,2,2.00\na,<p>3</p>,3,3.00\na,not html at all,4,4.00\n")
    pages = read_stores(path)["a"]
    doc = build_samples(pages, store_id="a", fields=["ORDER_ID", "SUBTOTAL"], test_fraction=0.5, min_samples=2)
    assert doc["dropped"] == [{"row": 1, "reason": "empty RAW_DOM"}]
    assert doc["samples"] == 3 and doc["skipped"] is None
    assert store_index(path)["stores"]["a"]["pages"] == 3


def test_empty_store_id_becomes_a_skipped_store_with_a_reason(tmp_path):
    path = write(tmp_path, HEADER + ",<p>1</p>,1,1.00\n,<p>2</p>,2,2.00\nb,<p>3</p>,3,3.00\n")
    index = store_index(path)
    assert "" in index["stores"]
    assert "2 row(s) have an empty STORE_ID" in index_warnings(index)[0]
    pages = read_stores(path)[""]
    doc = build_samples(pages, store_id="", fields=["ORDER_ID"], test_fraction=0.5, min_samples=2)
    assert doc["skipped"].startswith("empty STORE_ID")


def test_ragged_row_names_the_row(tmp_path):
    path = write(tmp_path, HEADER + "a,<p>1</p>,1,1.00\na,<p>2</p>,2\n")
    with pytest.raises(InputError, match="row 2 has 3 cells, the header has 4"):
        store_index(path)


HOSTILE_IDS = ["../../etc", "Shop", "shop", "shop ", 'q"uote\'s', "日本の店", "a/b", "a-b"]


@pytest.mark.slow
def test_hostile_store_ids_run_end_to_end_without_collisions(tmp_path):
    work = copy_workflow(tmp_path / "p")
    with open(work / "data.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["STORE_ID", "RAW_DOM", "GROUND_TRUTH_ORDER_ID"])
        for n, store in enumerate(HOSTILE_IDS):
            for i in range(3):
                writer.writerow([store, f"<p>Order <b id='o'>Z{n}{i}</b></p>", f"Z{n}{i}"])
    (work / "config.yaml").write_text(
        (work / "config.yaml").read_text().replace("data: store_data/Store_OCP_Data.csv", "data: data.csv")
    )
    run(work, "results/summary.tsv", "--config", "max_iterations=0")
    with open(work / "results" / "summary.tsv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert sorted(r["store_id"] for r in rows) == sorted(HOSTILE_IDS)
    assert len({r["slug"] for r in rows}) == len(HOSTILE_IDS)
    assert all(r["status"] == "healed" for r in rows), rows
    finals = list((work / "results" / "final").iterdir())
    assert len(finals) == len(HOSTILE_IDS)
    assert not (tmp_path / "etc").exists() and not (work.parent / "etc").exists()
    shutil.rmtree(work / "results")
