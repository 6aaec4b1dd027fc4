"""Tests for autoheal.compress: page views for prompts."""

from __future__ import annotations

import json

import pytest

from autoheal.compress import compress_page, estimate_tokens, fragment_around
from autoheal.scoring import is_present, surface_forms


def _card(i: int) -> str:
    return (
        f'<div class="card card-{i}" data-sku="SKU{i}" onclick="track({i})" style="color:red">'
        f'<h3 class="title">Product number {i}</h3><span class="price">$ {i}.99</span>'
        f'<p class="blurb">{"lorem ipsum dolor sit amet " * 8}</p></div>'
    )


def _page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head><title>Shop</title>{head}</head><body>{body}</body></html>"


ORDER = (
    '<div id="summary"><h2>Order Summary</h2>'
    '<div class="row"><span class="label">Order#</span><span class="v">112-1234567-7654321</span></div>'
    '<div class="row"><span class="label">Subtotal:</span><span class="v">$1,234.50</span></div>'
    '<div class="row"><span class="label">Grand Total:</span><span class="v">$1,300.00</span></div>'
    "</div>"
)


def test_drops_scripts_styles_comments_svg_and_noise_attributes():
    html = _page(
        '<script>var tracking = function () { return "SECRET_JS"; };</script>'
        "<style>.x { color: SECRET_CSS }</style><!-- SECRET_COMMENT -->"
        '<svg><path d="M0 0 L10 10 SECRET_SVG"/></svg><noscript>SECRET_NOSCRIPT</noscript>'
        '<div id="main" class="box" style="margin:0" onclick="go()" data-id="7">Hello</div>'
        + ORDER,
        head='<link rel="stylesheet" href="/a.css"><meta name="viewport" content="width=device-width">',
    )
    view = compress_page(html)
    for secret in ("SECRET_JS", "SECRET_CSS", "SECRET_COMMENT", "SECRET_SVG", "SECRET_NOSCRIPT"):
        assert secret not in view
    assert "style=" not in view and "onclick" not in view and "stylesheet" not in view
    assert '<div id="main" class="box" data-id="7">Hello</div>' in view
    assert "<title>Shop</title>" in view
    assert "$1,234.50" in view and "Subtotal:" in view


def test_keeps_json_ld_and_meta_with_content():
    ld = {
        "@type": "Recipe",
        "name": "Lemon Cake",
        "recipeIngredient": [f"ing {i}" for i in range(30)],
    }
    head = (
        f'<script type="application/ld+json">{json.dumps(ld)}</script>'
        '<meta property="og:title" content="Lemon Cake">'
        '<link rel="canonical" href="https://example.com/lemon-cake">'
    )
    view = compress_page(_page("<h1>Lemon Cake</h1>", head))
    assert '<script type="application/ld+json">' in view
    assert '"name":"Lemon Cake"' in view
    assert "more" in view and "ing 29" not in view  # the long list is cut
    assert '<meta property="og:title" content="Lemon Cake">' in view
    assert 'href="https://example.com/lemon-cake"' in view


def test_repeated_blocks_are_collapsed():
    view = compress_page(_page('<div id="list">' + "".join(_card(i) for i in range(40)) + "</div>"))
    assert "Product number 0" in view and "Product number 1" in view
    assert "Product number 2<" not in view and "Product number 39" not in view
    assert "<!-- 38 similar <div> elements omitted -->" in view


def test_keep_values_survive_deep_in_a_huge_repeated_list_and_in_js_state():
    cards = "".join(_card(i) for i in range(3000))
    state = (
        "<script>window.__STATE__ = "
        + json.dumps(
            {"junk": ["x" * 50] * 2000, "order": {"number": "ZX-99887766", "total": 4321.09}}
        )
        + ";</script>"
    )
    html = _page(f'<div id="list"><div><div><div>{cards}</div></div></div></div>{state}{ORDER}')
    assert len(html) > 1_000_000
    keep = ["Product number 2718", "$ 2718.99", "ZX-99887766", "4321.09"]
    keep += surface_forms("1234.50", "money")
    view = compress_page(html, keep=keep)
    for form in ("Product number 2718", "$ 2718.99", "ZX-99887766", "4321.09", "1,234.50"):
        assert form in view, form
    assert is_present("1234.50", view, "money")
    assert estimate_tokens(view) <= 8000
    assert "similar <div> elements omitted" in view


def test_budget_respected_on_a_500kb_page():
    rows = "".join(
        f'<div class="r{i % 7}"><span>{f"Some long descriptive text about item {i} " * 3}</span>'
        f"<b>{i}</b></div><p>{'paragraph text ' * 20}</p>"
        for i in range(1200)
    )
    html = _page(f"<main>{rows}</main>" + ORDER)
    assert len(html) > 500_000
    view = compress_page(html, keep=["112-1234567-7654321"], budget_tokens=3000)
    assert estimate_tokens(view) <= 3000
    assert "112-1234567-7654321" in view
    # the default: at most 5% of the raw tokens for a large page
    view = compress_page(html)
    assert estimate_tokens(view) <= 0.05 * estimate_tokens(html)
    assert "Grand Total" in view  # labelled likely values are preferred


def test_fragment_around_shows_the_label_context():
    html = _page('<div id="nav">' + "<a href='/x'>link</a>" * 50 + "</div>" + ORDER)
    frag = fragment_around(html, surface_forms("1234.50", "money"))
    assert frag is not None
    assert "Subtotal:" in frag and "$1,234.50" in frag
    assert len(frag) <= 1500
    assert "link" not in frag
    assert fragment_around(html, ["not on the page"]) is None
    assert fragment_around(html, []) is None
    small = fragment_around(html, ["$1,300.00"], max_chars=60)
    assert small is not None and "1,300.00" in small and len(small) <= 70


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "just some plain text, not HTML at all",
        "<div>" * 10_000 + "deep value" + "</div>" * 10_000,
        "<p>" + "x" * 5_000_000 + "</p>",
        "a\x00b<p>nul\x00 bytes\x00</p>\x01\x02",
        "<<<>>><</p></div></html><html><body",
        "<?xml version='1.0' encoding='latin-1'?><p>declared</p>",
        "\ud800 lone surrogate <b>bold",
        "<script>" * 2000 + "never closed",
        None,
        b"<p>bytes</p>",
    ],
)
def test_hostile_inputs_do_not_raise(html):
    view = compress_page(html, keep=["value", "deep value"])
    assert isinstance(view, str)
    assert "\x00" not in view
    fragment_around(html, ["value"])
    estimate_tokens(view)


def test_deep_nesting_is_flattened_not_lost():
    html = "<p>top</p>" + "<div>" * 1500 + "deep text" + "</div>" * 1500
    view = compress_page(html)
    assert "top" in view and "deep text" in view
    assert view.count("<div>") < 200


def test_deterministic():
    html = _page("".join(_card(i) for i in range(200)) + ORDER)
    keep = ["Product number 150", "1,234.50"]
    first = compress_page(html, keep=keep, budget_tokens=1500)
    assert all(compress_page(html, keep=keep, budget_tokens=1500) == first for _ in range(3))
    assert fragment_around(html, keep) == fragment_around(html, keep)


def test_estimate_tokens():
    assert estimate_tokens("") == 0
    prose = "The quick brown fox jumps over the lazy dog. " * 20
    assert 0.15 * len(prose) < estimate_tokens(prose) < 0.35 * len(prose)
    big = "<div class='x'>hello 123</div>" * 10_000
    exact = estimate_tokens(big[: 64 * 1024])
    assert abs(estimate_tokens(big) / len(big) - exact / (64 * 1024)) < 0.05
