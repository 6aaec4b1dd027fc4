"""The offline synthesizer: one small store per value source, learned on train pages and run
(through the sandbox) on pages it has not seen."""

from __future__ import annotations

import json

import pytest

from autoheal.page import Page
from autoheal.sandbox import Sandbox
from autoheal.scoring import infer_type, values_match
from autoheal.synth import synthesize

ORDERS = [  # (order id, subtotal, shipping, date label, date as shown, item count)
    ("A7-10423", "1234.50", "4.99", "2024-03-05", "March 5, 2024", 1),
    ("B2-55120", "87.10", "0.00", "2023-11-21", "November 21, 2023", 3),
    ("C9-90001", "12.00", "7.50", "2024-01-02", "January 2, 2024", 2),
    ("D4-31337", "455.25", "12.00", "2022-07-30", "July 30, 2022", 5),
    ("E1-24680", "9.99", "3.00", "2021-12-24", "December 24, 2021", 4),
]


def _money(amount: str) -> str:
    whole, frac = amount.split(".")
    return f"${int(whole):,}.{frac}"


def _total(o) -> str:
    return f"{float(o[1]) + float(o[2]):.2f}"


def _items(n: int, seed: int) -> str:
    return "".join(
        f"<tr><td class='name'>Item {seed}-{k}</td><td class='price'>${k * 3 + seed}.25</td></tr>"
        for k in range(n)
    )


def _pages(render, fields, orders=ORDERS, truth=None) -> list[Page]:
    pages = []
    for i, o in enumerate(orders):
        labels = truth(o) if truth else {"ORDER_ID": o[0], "SUBTOTAL": o[1], "TOTAL": _total(o),
                                         "ORDER_DATE": o[3]}
        pages.append(Page(page_id=f"p{i}", html=render(o, i), truth={f: labels[f] for f in fields}))
    return pages


def _types(pages, fields):
    return {f: infer_type(p.truth.get(f) for p in pages) for f in fields}


def _run(script: str, htmls: list[str], tmp_path) -> list[dict | None]:
    path = tmp_path / "script.py"
    path.write_text(script, encoding="utf-8")
    with Sandbox(path) as box:
        return [box.extract(h).value for h in htmls]


def _learn_and_check(tmp_path, pages, fields, n_train=3):
    train, test = pages[:n_train], pages[n_train:]
    types = _types(pages, fields)
    script = synthesize(train, fields, types)
    got = _run(script, [p.html for p in test], tmp_path)
    for page, values in zip(test, got, strict=True):
        assert values is not None
        for f in fields:
            assert values_match(page.truth[f], values[f], types[f]), (f, page.truth[f], values[f])
    return script


def _shell(body: str, i: int) -> str:
    noise = "".join(f"<p class='promo'>Deal {i * 7 + k}</p>" for k in range(i % 3 + 1))
    return f"<html><head><title>Shop</title></head><body><div id='top'>{noise}</div>{body}</body></html>"


def test_text_node_with_id(tmp_path):
    render = lambda o, i: _shell(f"<h2>Thanks!</h2><span id='order-number'>{o[0]}</span>", i)  # noqa: E731
    _learn_and_check(tmp_path, _pages(render, ["ORDER_ID"]), ["ORDER_ID"])


def test_class_anchored_div_soup(tmp_path):
    def render(o, i):
        return _shell(
            "<div><div><div class='row'><div class='cell lbl'>x</div>"
            f"<div class='cell amount-subtotal'>{_money(o[1])}</div></div></div></div>", i)

    _learn_and_check(tmp_path, _pages(render, ["SUBTOTAL"]), ["SUBTOTAL"])


def test_label_anchor_next_to_value(tmp_path):
    def render(o, i):
        return _shell(
            f"<table>{_items(o[5], i)}<tr><td>Shipping:</td><td>{_money(o[2])}</td></tr>"
            f"<tr><td>Subtotal:</td><td>{_money(o[1])}</td></tr></table>", i)

    _learn_and_check(tmp_path, _pages(render, ["SUBTOTAL"]), ["SUBTOTAL"])


def test_dl_dt_dd(tmp_path):
    def render(o, i):
        return _shell(f"<dl><dt>Order number</dt><dd>{o[0]}</dd><dt>Order date</dt>"
                      f"<dd>{o[4]}</dd></dl>", i)

    _learn_and_check(tmp_path, _pages(render, ["ORDER_ID", "ORDER_DATE"]), ["ORDER_ID", "ORDER_DATE"])


def test_table_row_whose_position_moves_with_item_count(tmp_path):
    def render(o, i):
        return _shell(
            f"<table class='summary'>{_items(o[5], i)}"
            f"<tr><td>Grand total</td><td>{_money(_total(o))}</td></tr></table>", i)

    _learn_and_check(tmp_path, _pages(render, ["TOTAL"]), ["TOTAL"])


def test_attribute_values(tmp_path):
    def render(o, i):
        return _shell(f"<form><input type='hidden' name='order_ref' value='{o[0]}'>"
                      f"<div class='sum' data-amount='{o[1]}'>see below</div></form>", i)

    _learn_and_check(tmp_path, _pages(render, ["ORDER_ID", "SUBTOTAL"]), ["ORDER_ID", "SUBTOTAL"])


def test_meta_tag(tmp_path):
    def render(o, i):
        return (f"<html><head><meta property='og:title' content='Order {o[0]} confirmed'>"
                f"</head><body><p>Hello</p>{'<br>' * i}</body></html>")

    _learn_and_check(tmp_path, _pages(render, ["ORDER_ID"]), ["ORDER_ID"])


def test_json_ld(tmp_path):
    def render(o, i):
        data = {"@context": "https://schema.org", "@type": "Order", "orderNumber": o[0],
                "orderDate": o[3], "seller": {"@type": "Organization", "name": "Shop"},
                "price": o[1]}
        return _shell(f"<script type='application/ld+json'>{json.dumps(data)}</script>", i)

    fields = ["ORDER_ID", "ORDER_DATE", "SUBTOTAL"]
    _learn_and_check(tmp_path, _pages(render, fields), fields)


def test_microdata_itemprop(tmp_path):
    def render(o, i):
        return _shell(f"<div itemscope itemtype='https://schema.org/Order'>"
                      f"<span itemprop='orderNumber'>{o[0]}</span>"
                      f"<meta itemprop='orderDate' content='{o[3]}'></div>", i)

    fields = ["ORDER_ID", "ORDER_DATE"]
    _learn_and_check(tmp_path, _pages(render, fields), fields)


def test_inline_js_state(tmp_path):
    def render(o, i):
        state = {"user": {"name": "x"}, "order": {"number": o[0], "subtotal": o[1]}}
        return _shell(f"<div id='app'></div><script>window.__STATE__ = {json.dumps(state)};</script>", i)

    fields = ["ORDER_ID", "SUBTOTAL"]
    _learn_and_check(tmp_path, _pages(render, fields), fields)


def test_absent_field_is_none(tmp_path):
    def render(o, i):
        ship = f"<tr><td>Shipping</td><td>{_money(o[2])}</td></tr>" if o[2] != "0.00" else ""
        return _shell(f"<table>{ship}<tr><td>Subtotal</td><td>{_money(o[1])}</td></tr></table>", i)

    def truth(o):
        return {"SHIPPING": o[2] if o[2] != "0.00" else None, "SUBTOTAL": o[1]}

    orders = [ORDERS[1], ORDERS[0], ORDERS[2], ORDERS[3], ORDERS[1]]
    pages = _pages(render, ["SHIPPING", "SUBTOTAL"], orders, truth)
    _learn_and_check(tmp_path, pages, ["SHIPPING", "SUBTOTAL"])


def test_prefix_is_stripped_from_ids(tmp_path):
    render = lambda o, i: _shell(f"<h1 class='title'>Order #{o[0]}</h1><p>thanks</p>", i)  # noqa: E731
    script = _learn_and_check(tmp_path, _pages(render, ["ORDER_ID"]), ["ORDER_ID"])
    assert "order #" in script.lower()


def test_unseen_template_gives_none_not_a_guess(tmp_path):
    def render(o, i):
        return _shell(f"<table><tr><td>Subtotal:</td><td>{_money(o[1])}</td></tr></table>"
                      f"<span id='oid'>{o[0]}</span>", i)

    fields = ["ORDER_ID", "SUBTOTAL"]
    pages = _pages(render, fields)
    script = synthesize(pages[:3], fields, _types(pages, fields))
    other = "<html><body><h1>Invoice 77-1</h1><p>Amount due $5.00</p><b>Total $9.00</b></body></html>"
    assert _run(script, [other], tmp_path) == [{"ORDER_ID": None, "SUBTOTAL": None}]


def test_no_train_label_is_hard_coded(tmp_path):
    # Every page carries the same status text; a constant would pass on train.
    def render(o, i):
        return _shell(f"<div class='status'>Shipped</div><span id='n'>{o[0]}</span>", i)

    fields = ["STATUS", "ORDER_ID"]
    pages = _pages(render, fields, truth=lambda o: {"STATUS": "Shipped", "ORDER_ID": o[0]})
    script = synthesize(pages[:3], fields, _types(pages, fields))
    for page in pages[:3]:
        for value in page.truth.values():
            assert value not in script
    got = _run(script, [render(("Z9-1", "1.00", "0", "", "", 1), 9).replace("Shipped", "Lost")],
               tmp_path)
    assert got[0]["STATUS"] in ("Lost", None)


def _two_templates(o, i):
    if i % 4 == 3:  # a second layout of the same store
        return _shell(f"<section><h3>Ref</h3><p class='ref'>Reference: {o[0]}</p></section>", i)
    return _shell(f"<span id='order-number'>{o[0]}</span>", i)


def test_improvement_iteration_fixes_a_failure(tmp_path):
    orders = ORDERS + [("F5-11111", "1.00", "1.00", "2020-01-01", "", 1),
                       ("G6-22222", "2.00", "1.00", "2020-01-02", "", 1),
                       ("H7-33333", "3.00", "1.00", "2020-01-03", "", 1)]
    pages = _pages(_two_templates, ["ORDER_ID"], orders)
    train = pages[:5]  # pages 0-2 seed iteration 0; page 3 shows the second layout
    types = {"ORDER_ID": "id"}
    first = synthesize(train, ["ORDER_ID"], types)
    got = _run(first, [p.html for p in train], tmp_path)
    failures = [
        {"page_id": p.page_id, "field": "ORDER_ID", "expected": p.truth["ORDER_ID"],
         "got": g["ORDER_ID"], "error": None, "traceback": None, "fragment": ""}
        for p, g in zip(train, got, strict=True) if g["ORDER_ID"] != p.truth["ORDER_ID"]
    ]
    assert [f["page_id"] for f in failures] == ["p3"]
    second = synthesize(train, ["ORDER_ID"], types, first, failures)
    assert second != first
    test = pages[5:] + [pages[3]]
    got = _run(second, [p.html for p in pages[7:8]] + [p.html for p in test], tmp_path)
    assert got[0]["ORDER_ID"] == "H7-33333"  # second layout (i = 7) on a page never seen
    assert [g["ORDER_ID"] for g in got[1:]] == [p.truth["ORDER_ID"] for p in test]


def test_deterministic():
    render = lambda o, i: _shell(f"<table><tr><td>Total</td><td>{_money(_total(o))}</td></tr></table>", i)  # noqa: E731
    pages = _pages(render, ["TOTAL"])
    types = _types(pages, ["TOTAL"])
    assert synthesize(pages[:3], ["TOTAL"], types) == synthesize(pages[:3], ["TOTAL"], types)


@pytest.mark.parametrize("fields", [["ORDER_ID"], ["ORDER_ID", "NOTE"]])
def test_fields_without_any_label_give_none(tmp_path, fields):
    render = lambda o, i: _shell(f"<span id='order-number'>{o[0]}</span>", i)  # noqa: E731
    pages = _pages(render, fields, truth=lambda o: {"ORDER_ID": o[0], "NOTE": None})
    script = synthesize(pages[:3], fields, _types(pages, fields))
    got = _run(script, [pages[4].html], tmp_path)[0]
    assert got == {"ORDER_ID": pages[4].truth["ORDER_ID"], **{f: None for f in fields[1:]}}


def _recipe_page(title: str, prep: int, cook: int, total: bool) -> str:
    data = {"@context": "https://schema.org", "@type": "Recipe", "name": title,
            "prepTime": f"PT{prep}M", "cookTime": f"PT{cook}M"}
    if total:
        data["totalTime"] = f"PT{prep + cook}M"
    return _shell(f"<h1>{title}</h1><script type='application/ld+json'>{json.dumps(data)}</script>", prep)


def test_total_time_as_sum_of_parts(tmp_path):
    # The page gives only prepTime and cookTime; the label is their sum.
    rows = [("Soup", 10, 20), ("Cake", 25, 50), ("Stew", 15, 95), ("Salad", 5, 7)]
    pages = [Page(page_id=f"p{i}", html=_recipe_page(t, p, c, total=False),
                  truth={"TOTAL_TIME": str(p + c)}) for i, (t, p, c) in enumerate(rows)]
    script = _learn_and_check(tmp_path, pages, ["TOTAL_TIME"])
    assert '"plus"' in script or "'plus'" in script


def test_sum_of_parts_fills_in_a_missing_total(tmp_path):
    # Train pages all carry totalTime (= prep + cook); a test page leaves it out.
    rows = [("Soup", 10, 20), ("Cake", 25, 50), ("Stew", 15, 95)]
    train = [Page(page_id=f"p{i}", html=_recipe_page(t, p, c, total=True),
                  truth={"TOTAL_TIME": str(p + c)}) for i, (t, p, c) in enumerate(rows)]
    script = synthesize(train, ["TOTAL_TIME"], {"TOTAL_TIME": "number"})
    got = _run(script, [_recipe_page("Pie", 12, 33, total=False), _recipe_page("Tea", 2, 3, True),
                        _shell("<p>no recipe here</p>", 1)], tmp_path)
    assert [g["TOTAL_TIME"] for g in got] == ["45", "5", None]


def test_visible_text_skips_script_style_and_keeps_order():
    from autoheal.synth import runtime

    html = ("<html><head><style>p{}</style><script>var x = 'Subtotal';</script></head><body>"
            "<div>A<b>B</b>C<script>ignored()</script>D<noscript>E</noscript>F</div>"
            "<p>Subtotal:</p><!-- note -->G<p>Ärger &amp; Co</p></body></html>")
    doc = runtime.Doc(html)
    texts = [t for t, _low, _el in doc.segments()]
    xpath = doc.root.xpath("//text()[not(parent::script or parent::style or parent::noscript)]")
    assert texts == [runtime._norm(t) for t in xpath if runtime._norm(t)]
    assert texts == ["A", "B", "C", "D", "F", "Subtotal:", "G", "Ärger & Co"]
    assert runtime.run_locator(doc, {"kind": "label", "label": "subtotal", "mode": "next"},
                               {"t": "text"}) == "G"


def test_non_ascii_page_parses_like_a_str_parse():
    import lxml.etree

    from autoheal.synth import runtime

    html = "<html><head><meta charset='iso-8859-1'></head><body><p>Größe: 5 €</p></body></html>"
    doc = runtime.Doc(html)
    assert doc.segments()[0][0] == "Größe: 5 €"
    ref = lxml.etree.fromstring(html, lxml.etree.HTMLParser())
    assert lxml.etree.tostring(doc.root, encoding="unicode") == lxml.etree.tostring(ref, encoding="unicode")
