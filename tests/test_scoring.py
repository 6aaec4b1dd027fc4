import datetime as dt
from decimal import Decimal

import pytest

from autoheal.scoring import (
    infer_type,
    is_present,
    normalize_text,
    parse_date,
    parse_money,
    score_page,
    surface_forms,
    values_match,
)


@pytest.mark.parametrize(
    "text, amount",
    [
        ("$1,234.50", "1234.50"),
        ("1.234,50 €", "1234.50"),
        ("EUR 23,96", "23.96"),
        ("1234.50", "1234.50"),
        ("€54,99", "54.99"),
        ("£1,050.62", "1050.62"),
        ("CA$12.00", "12.00"),
        ("1 234,50 €", "1234.50"),
        ("-5.00", "-5.00"),
        ("12", "12"),
    ],
)
def test_parse_money(text, amount):
    assert parse_money(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["abc", "", "83.66|7.99", "Order 12 of 3", None])
def test_parse_money_rejects_non_amounts(text):
    assert parse_money(text) is None


@pytest.mark.parametrize(
    "text, day",
    [
        ("2018-12-21", dt.date(2018, 12, 21)),
        ("December 21, 2018", dt.date(2018, 12, 21)),
        ("Dec 3, 2020", dt.date(2020, 12, 3)),
        ("27. September 2021", dt.date(2021, 9, 27)),
        ("03.05.2021", dt.date(2021, 5, 3)),
        ("Ordered on Monday, March 4, 2024", None),  # prose around: not a date value
    ],
)
def test_parse_date(text, day):
    assert parse_date(text) == day


def test_infer_type():
    assert infer_type(["6542", "6567"]) == "id"
    assert infer_type(["€54,99", "$1.00"]) == "money"
    assert infer_type(["11.94", "3.50"]) in ("money", "number")
    assert infer_type(["2019-01-01", None]) == "date"
    assert infer_type(["166-7926740-5141621"]) == "id"
    assert infer_type(["Spicy lentil soup"]) == "text"
    assert infer_type([None, ""]) == "text"


def test_values_match_money_and_empty():
    assert values_match("1234.50", "$1,234.50", "money")
    assert values_match("1234.50", "1.234,50 €", "money")
    assert not values_match("1234.50", "$1,234.51", "money")
    assert values_match(None, None, "money")
    assert values_match("", "  ", "id")
    assert not values_match(None, "12.00", "money")  # empty label expects no value
    assert not values_match("12.00", None, "money")


def test_values_match_text_normalisation():
    assert values_match("Fish &amp; Chips", "Fish  &\n Chips", "text")
    assert not values_match("A-1", "A-2", "id")
    assert not values_match("x", ["x"], "text")  # non-scalar results are wrong


def test_score_page_keys_case_insensitive():
    truth = {"ORDER_ID": "A1", "SUBTOTAL": "5.00"}
    assert score_page(truth, {"order_id": "A1", "Subtotal": "$5"}, {"SUBTOTAL": "money"}) == {
        "ORDER_ID": True,
        "SUBTOTAL": True,
    }
    assert score_page(truth, None, {}) == {"ORDER_ID": False, "SUBTOTAL": False}


def test_surface_forms_and_presence():
    forms = surface_forms("1234.50", "money")
    assert "1,234.50" in forms and "1.234,50" in forms
    assert is_present("1234.50", "<td>Subtotal</td><td>$1,234.50</td>", "money")
    assert is_present("2018-12-21", "<p>Placed December 21, 2018</p>", "date")
    assert is_present("Fish & Chips", "<b>Fish &amp; Chips</b>", "text")
    assert not is_present("A-99", "<p>A-98</p>", "id")
    assert normalize_text(" a\u00a0 b ") == "a b"
