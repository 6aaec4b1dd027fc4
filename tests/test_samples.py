import csv
import gzip

import pytest

from autoheal.page import Page
from autoheal.samples import (
    InputError,
    build_samples,
    load_store,
    presence,
    read_stores,
    select_stores,
    split_pages,
    store_index,
)

HEADER = ["STORE_ID", "RAW_DOM", "GROUND_TRUTH_ORDER_ID", "GROUND_TRUTH_SUBTOTAL"]


def write_csv(path, rows, header=HEADER):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def page_row(store, i, extra=""):
    return [store, f"<p>Order #{store}-{i}</p>\n<p>Subtotal ${i}.00</p>{extra}", f"{store}-{i}", f"{i}.00"]


def test_read_stores_groups_rows_and_keeps_empty_labels_as_none(tmp_path):
    path = write_csv(tmp_path / "in.csv", [page_row("a", 1), ["b", "<p>x</p>", "7", ""], page_row("a", 2)])
    stores = read_stores(path)
    assert list(stores) == ["a", "b"]
    assert [p.row for p in stores["a"]] == [1, 3]
    assert stores["b"][0].truth == {"ORDER_ID": "7", "SUBTOTAL": None}


def test_nan_looking_labels_stay_text(tmp_path):
    path = write_csv(tmp_path / "in.csv", [["a", "<p>N/A</p>", "N/A", "nan"]])
    assert read_stores(path)["a"][0].truth == {"ORDER_ID": "N/A", "SUBTOTAL": "nan"}


@pytest.mark.parametrize(
    "header, message",
    [
        (["STORE_ID", "GROUND_TRUTH_X"], "missing required column 'RAW_DOM'"),
        (["STORE_ID", "RAW_DOM"], "no GROUND_TRUTH_<FIELD> column"),
        (["STORE_ID", "RAW_DOM", "GROUND_TRUTH_X", "GROUND_TRUTH_X"], "duplicate column name"),
    ],
)
def test_bad_headers_name_the_problem(tmp_path, header, message):
    path = write_csv(tmp_path / "in.csv", [], header=header)
    with pytest.raises(InputError, match=message):
        store_index(path)


def test_empty_file_and_missing_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_stores(tmp_path / "empty.csv")
    with pytest.raises(InputError, match="does not exist"):
        store_index(tmp_path / "nope.csv")


def test_index_spans_load_only_that_store_and_match_full_read(tmp_path):
    rows = [page_row("a", 1), page_row("b", 1, "\r\nmulti\nline"), page_row("a", 2), page_row("c", 1)]
    path = write_csv(tmp_path / "in.csv", rows)
    index = store_index(path, tmp_path / "cache")
    assert set(index["stores"]) == {"a", "b", "c"}
    full = read_stores(path)
    for store in full:
        assert load_store(path, store, index) == full[store]


def test_index_cache_is_keyed_on_file_identity(tmp_path):
    path = write_csv(tmp_path / "in.csv", [page_row("a", 1)])
    first = store_index(path, tmp_path / "cache")
    assert store_index(path, tmp_path / "cache") == first
    write_csv(path, [page_row("a", 1), page_row("z", 1)])
    assert set(store_index(path, tmp_path / "cache")["stores"]) == {"a", "z"}


def test_store_hash_changes_only_for_the_edited_store(tmp_path):
    path = write_csv(tmp_path / "in.csv", [page_row("a", 1), page_row("b", 1)])
    before = store_index(path)["stores"]
    write_csv(path, [page_row("a", 1), page_row("b", 2), page_row("new", 1)])
    after = store_index(path)["stores"]
    assert after["a"]["sha256"] == before["a"]["sha256"]
    assert after["b"]["sha256"] != before["b"]["sha256"]


def test_gzip_input(tmp_path):
    plain = write_csv(tmp_path / "in.csv", [page_row("a", 1), page_row("a", 2)])
    gz = tmp_path / "in.csv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    index = store_index(gz)
    assert load_store(gz, "a", index) == read_stores(plain)["a"]


def test_bom_is_ignored(tmp_path):
    path = write_csv(tmp_path / "in.csv", [page_row("a", 1)])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert list(read_stores(path)) == ["a"]


def pages(n, store="s"):
    return [Page(page_id=f"{store}{i:04d}", html=f"<p>{store}{i}</p>", truth={"X": str(i)}, row=i) for i in range(n)]


def test_split_is_deterministic_disjoint_and_roughly_half():
    train, test = split_pages(pages(400), 0.5)
    assert {p.page_id for p in train}.isdisjoint({p.page_id for p in test})
    assert len(train) + len(test) == 400
    assert 160 < len(test) < 240
    assert split_pages(pages(400), 0.5) == (train, test)


def test_split_is_content_stable_when_rows_are_appended():
    train, test = split_pages(pages(30), 0.5)
    train2, test2 = split_pages(pages(60), 0.5)  # same first 30 pages, 30 appended
    side = {p.page_id: "train" for p in train2} | {p.page_id: "test" for p in test2}
    assert all(side[p.page_id] == "train" for p in train)
    assert all(side[p.page_id] == "test" for p in test)


def test_split_of_two_pages_has_both_sides_and_duplicates_never_straddle():
    for n in range(2, 12):
        train, test = split_pages(pages(n), 0.5)
        assert train and test
    dup = pages(3) + pages(3)
    train, test = split_pages(dup, 0.5)
    assert len(train) + len(test) == 3


def test_build_samples_skips_small_stores_and_reports_duplicates():
    doc = build_samples(pages(1), store_id="s", fields=["X"], test_fraction=0.5, min_samples=2)
    assert doc["skipped"].startswith("1 distinct page(s) < min_samples_per_store=2")
    doc = build_samples(pages(4) + pages(2), store_id="s", fields=["X"], test_fraction=0.5, min_samples=2)
    assert doc["skipped"] is None
    assert len(doc["duplicates"]) == 2 and doc["samples"] == 4
    assert len(doc["train"]) + len(doc["test"]) == 4
    assert doc["types"] == {"X": "id"}


def test_build_samples_skips_store_without_any_label():
    unlabeled = [Page(f"p{i}", f"<p>{i}</p>", {"X": None}, i) for i in range(4)]
    doc = build_samples(unlabeled, store_id="s", fields=["X"], test_fraction=0.5, min_samples=2)
    assert "no page of this store has any ground-truth label" in doc["skipped"]


def test_presence_counts_labels_found_in_their_page():
    ps = [
        Page("a", "<td>$1,234.50</td>", {"T": "1234.50"}, 1),
        Page("b", "<td>$9.00</td>", {"T": "10.00"}, 2),
        Page("c", "<td>-</td>", {"T": None}, 3),
    ]
    assert presence(ps, ["T"], {"T": "money"}) == {"T": {"labelled": 2, "present": 1, "pct": 50.0}}


def test_select_stores_unknown_store_is_a_clear_error(tmp_path):
    path = write_csv(tmp_path / "in.csv", [page_row("a", 1)])
    index = store_index(path)
    assert list(select_stores(index, [])) == ["a"]
    with pytest.raises(InputError, match="config key 'stores': 'zz' not found"):
        select_stores(index, ["zz"])
