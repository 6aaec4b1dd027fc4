"""The committed demo CSV is exactly what ``autoheal.demo`` generates, and it has the shape the
workflow's demo relies on (store and page counts, page sizes, label presence, awkward cases)."""

from __future__ import annotations

import csv
import io
import sys
from collections import defaultdict
from itertools import islice
from pathlib import Path

import pytest

from autoheal import demo
from autoheal.scoring import infer_type, is_present, page_text

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "store_data" / "Store_OCP_Data.csv"
FIELDS = [c.removeprefix("GROUND_TRUTH_") for c in demo.COLUMNS[2:]]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("demo") / "Store_OCP_Data.csv"
    assert demo.main(["--out", str(out)]) == 0
    return out.read_bytes()


@pytest.fixture(scope="module")
def stores(generated) -> dict[str, list[dict]]:
    csv.field_size_limit(sys.maxsize)
    reader = csv.DictReader(io.StringIO(generated.decode("utf-8"), newline=""))
    assert tuple(reader.fieldnames) == demo.COLUMNS
    out: dict[str, list[dict]] = defaultdict(list)
    for row in reader:
        out[row["STORE_ID"]].append(row)
    return dict(out)


def test_committed_csv_regenerates_byte_identically(generated):
    assert COMMITTED.exists(), "run: python -m autoheal.demo --out store_data/Store_OCP_Data.csv"
    committed = COMMITTED.read_bytes()
    assert committed == generated, "store_data/Store_OCP_Data.csv is stale: regenerate it"


def test_encoding_and_size(generated):
    assert not generated.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in generated
    assert len(generated) < 10 * 1024 * 1024


def test_other_seed_differs_but_is_stable():
    first = lambda seed: list(islice(demo.generate_rows(seed), 3))  # noqa: E731
    assert first(7) == first(7)
    assert first(7) != first(demo.DEFAULT_SEED)


def test_store_and_page_counts(stores):
    multi = {s: rows for s, rows in stores.items() if len(rows) > 1}
    single = [s for s, rows in stores.items() if len(rows) == 1]
    assert len(multi) >= 8
    assert len(single) == 1
    for store, rows in multi.items():
        assert 12 <= len(rows) <= 40, store
    assert "Joe's Shop/EU" in multi


def test_page_sizes(stores):
    for store, rows in stores.items():
        for n, row in enumerate(rows):
            size = len(row["RAW_DOM"].encode("utf-8"))
            assert 10 * 1024 <= size <= 200 * 1024, (store, n, size)


def test_pages_are_distinct(stores):
    doms = [row["RAW_DOM"] for rows in stores.values() for row in rows]
    assert len(set(doms)) == len(doms)


def test_labels_present_except_the_one_labelling_error(stores):
    absent = []
    for store, rows in stores.items():
        for field in FIELDS:
            ftype = infer_type(row[field_col(field)] for row in rows)
            for n, row in enumerate(rows):
                label = row[field_col(field)]
                if label and not is_present(label, row["RAW_DOM"], ftype):
                    absent.append((store, field, n))
    assert len(absent) == 1, absent
    assert absent[0][1] == "ORDER_ID"


def test_awkward_cases(stores):
    extra = [s for s, rows in stores.items() if all(r[field_col("TOTAL")] for r in rows)
             and all(r[field_col("ORDER_DATE")] for r in rows)]
    assert len(extra) >= 2
    displayed = [s for s, rows in stores.items() if rows[0][field_col("SUBTOTAL")].startswith("$")]
    assert displayed, "one store labels money as displayed"
    missing = [(s, r) for s, rows in stores.items() for r in rows if not r[field_col("SUBTOTAL")]]
    assert missing, "a store has pages without a subtotal"
    for _store, row in missing:
        assert "subtotal" not in page_text(row["RAW_DOM"]).lower()
    for rows in stores.values():
        for row in rows:
            assert not row[field_col("ORDER_ID")].startswith("#")
            date = row[field_col("ORDER_DATE")]
            assert not date or infer_type([date]) == "date"


def field_col(field: str) -> str:
    return "GROUND_TRUTH_" + field
