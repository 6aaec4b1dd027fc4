import os

import pytest

from autoheal.io import atomic_write_json, atomic_write_text, read_json, slug


@pytest.mark.parametrize("ident", ["abc", "store-1", "shop.example.com", "maple_hardware"])
def test_slug_keeps_safe_ids(ident):
    assert slug(ident) == ident


def test_slug_is_path_safe_and_injective():
    ids = ["Joe's Shop/EU", "joe's shop/eu", "Joe s Shop EU", "../etc", "..", "a b", "ä", "", "Store",
           "store", 'q"uote', "x_y", "日本の店"]
    slugs = [slug(i) for i in ids]
    assert len(set(slugs)) == len(ids)
    assert len({s.lower() for s in slugs}) == len(ids)  # also on case-insensitive file systems
    for s in slugs:
        assert "/" not in s and ".." not in s and s == s.lower() and s and not s.startswith(".")


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "out.json"
    atomic_write_json(target, {"b": 1, "a": [1, 2]})
    assert read_json(target) == {"a": [1, 2], "b": 1}
    atomic_write_text(target, "x")
    assert target.read_text() == "x"
    assert os.listdir(target.parent) == ["out.json"]


def test_atomic_write_failure_keeps_old_content(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")

    class Boom:
        def __str__(self):
            raise RuntimeError("boom")

    with pytest.raises(TypeError):
        atomic_write_text(target, Boom())  # not a str: write fails midway
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]
