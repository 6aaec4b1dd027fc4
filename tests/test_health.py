"""Health check of scripts on new pages (autoheal.health) and the simulated template changes
(autoheal.drift) the bench and the demo use."""

from __future__ import annotations

import pytest

from autoheal import demo
from autoheal.drift import CHANGES, change_page
from autoheal.health import FieldProfile, classify, field_health, profile_fields, store_health

TYPES = {"ORDER_ID": "id", "SUBTOTAL": "money", "DATE": "date", "NOTE": "text"}
TRUTHS = [
    {"ORDER_ID": "W123456789", "SUBTOTAL": "1234.50", "DATE": "2024-03-01", "NOTE": "gift wrap"},
    {"ORDER_ID": "W987654321", "SUBTOTAL": "12.00", "DATE": "2024-03-04", "NOTE": None},
]


@pytest.fixture
def profiles():
    return profile_fields(TRUTHS, list(TYPES), TYPES)


@pytest.mark.parametrize(
    "field, value, fits",
    [
        ("SUBTOTAL", "$1,234.50", True),
        ("SUBTOTAL", "1.234,50 €", True),
        ("SUBTOTAL", "$1,234", False),  # cents as a superscript, read without them
        ("SUBTOTAL", "$1,23450", False),
        ("SUBTOTAL", "Free", False),
        ("DATE", "March 1, 2024", True),
        ("DATE", "soon", False),
        ("ORDER_ID", "W555555555", True),
        ("ORDER_ID", "w555555555", True),  # letter case is not held against an id
        ("ORDER_ID", "W-555", False),  # a separator the labels never had
        ("ORDER_ID", "Order W555555555 placed on March 1 by a customer we like " * 3, False),
        ("NOTE", "anything goes", True),
    ],
)
def test_profile_fits_the_labels_shape(profiles, field, value, fits):
    assert profiles[field].fits(value) is fits


def test_digits_only_ids_reject_words():
    prof = FieldProfile.learn("id", ["100231", "100987"])
    assert prof.fits("100555")
    assert not prof.fits("Member")


def test_classify_pages(profiles):
    fields = list(TYPES)
    assert set(classify(None, "boom", fields, profiles).values()) == {"crash"}
    assert set(classify(["not", "a", "dict"], None, fields, profiles).values()) == {"crash"}
    got = {"order_id": "W111111111", "SUBTOTAL": "$5", "DATE": "", "NOTE": {"x": 1}}
    assert classify(got, None, fields, profiles) == {
        "ORDER_ID": "ok", "SUBTOTAL": "shape", "DATE": "empty", "NOTE": "shape",
    }  # fmt: skip


def test_field_health_flags_a_real_drop_not_chance():
    ref = ["ok"] * 18
    broken = field_health(ref, ["ok"] * 5 + ["empty"] * 5)
    assert broken["drifted"] and broken["drop"] == 50.0 and broken["empty"] == 50.0
    one_off = field_health(ref, ["ok"] * 9 + ["empty"])
    assert not one_off["drifted"]  # 10 pp: below the threshold
    # a field that is legitimately empty on a fifth of the pages (digital orders)
    legit = ["ok"] * 14 + ["empty"] * 4
    assert not field_health(legit, ["ok"] * 6 + ["empty"] * 4)["drifted"]  # chance
    assert field_health(legit, ["empty"] * 9 + ["ok"])["drifted"]
    assert field_health(ref, [])["drop"] is None and not field_health(ref, [])["drifted"]


def test_store_health_is_the_worst_field():
    ref = [{"A": "ok", "B": "ok"}] * 12
    new = [{"A": "ok", "B": "empty"}] * 6
    verdict = store_health(ref, new, ["A", "B"])
    assert verdict["drifted"] and verdict["drifted_fields"] == ["B"]
    assert verdict["health"] == 0.0 and verdict["health_ref"] == 100.0 and verdict["max_drop"] == 100.0
    assert not store_health(ref, [{"A": "ok", "B": "ok"}] * 6, ["A", "B"])["drifted"]


@pytest.fixture(scope="module")
def demo_page():
    spec = next(s for s in demo.STORES if s.store_id == "maple_hardware")
    html, labels = demo.new_store_pages(spec, count=1, batch="test")[0]
    types = {"ORDER_ID": "id", "SUBTOTAL": "money", "TOTAL": "money", "ORDER_DATE": "date"}
    return html, labels, types


@pytest.mark.parametrize("kind", CHANGES)
def test_every_change_changes_the_page_deterministically(demo_page, kind):
    html, labels, types = demo_page
    changed = change_page(html, kind, truth=labels, types=types)
    assert changed != html
    assert changed == change_page(html, kind, truth=labels, types=types)
    assert "<html" in changed and "</html>" in changed


def test_changes_do_what_they_say(demo_page):
    html, labels, types = demo_page
    assert "Merchandise Subtotal:" in html
    relabelled = change_page(html, "relabel_field", truth=labels, types=types, field="SUBTOTAL")
    assert "Merchandise Subtotal:" not in relabelled and ">Items:<" in relabelled
    money = change_page(html, "money_format")
    assert "<sup>" in money and "<sup>" not in html
    renamed = change_page(html, "rename_classes")
    assert 'class="mh-summary' not in renamed.split("<style>")[0]
    wrapped = change_page(html, "new_wrapper")
    assert 'class="shell-v2"' in wrapped
    with pytest.raises(ValueError, match="unknown template change"):
        change_page(html, "earthquake")


def test_demo_new_pages_regenerate_and_change_one_store():
    first = demo.render_new_pages_csv()
    assert first == demo.render_new_pages_csv()
    assert first.startswith("STORE_ID,RAW_DOM\n")
    assert demo.CHANGED_STORE in first and demo.NEW_STORE.store_id in first
