"""The synthetic input generator for the scale benchmarks is deterministic and well-formed."""

import hashlib

from autoheal import synthetic
from autoheal.samples import select_stores, store_index


def test_same_arguments_give_the_same_bytes_and_larger_files_extend_smaller(tmp_path):
    a = synthetic.write_csv(tmp_path / "a.csv", 3, 2)
    b = synthetic.write_csv(tmp_path / "b.csv", 3, 2)
    assert a == b
    digest = [hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in ("a.csv", "b.csv")]
    assert digest[0] == digest[1]
    synthetic.write_csv(tmp_path / "c.csv", 4, 2)
    assert (tmp_path / "c.csv").read_bytes().startswith((tmp_path / "a.csv").read_bytes())


def test_stores_are_path_safe_realistic_and_indexable(tmp_path):
    path = tmp_path / "s.csv"
    synthetic.write_csv(path, 10, 3)
    index = store_index(path)
    ids = synthetic.store_ids(10)
    assert list(index["stores"]) == ids
    stores = select_stores(index)
    assert sorted(stores) == sorted(ids)  # the slug is the id: path-safe already
    assert all(entry["pages"] == 3 for entry in index["stores"].values())
    assert path.stat().st_size / 30 > 10_000  # demo-sized pages, not stubs
