"""Deterministic demo data: saved order-confirmation pages of fictional stores.

``store_data/Store_OCP_Data.csv`` is the offline demo input of the workflow.  It is *generated*,
by this module, and committed; ``python -m autoheal.demo --out store_data/Store_OCP_Data.csv``
rewrites it byte for byte (``tests/test_demo.py`` checks that).  Why it is shaped this way:

* **Realistic enough to be worth healing.**  Every store is one template family with its own
  markup habits, the way real shops differ: a table layout, React-style div soup with hashed
  class names, definition lists, values that live only in JSON-LD or only in an inline
  ``window.__INITIAL_STATE__`` blob, an e-mail with inline styles and nested tables, a page full
  of decoy prices and ids, a German shop with ``1.234,50 €`` and a microdata shop in pounds.
  Pages carry the boilerplate real pages carry (head tags, a generated stylesheet, mega menu,
  footer, recommendations, tracking and chunk scripts), so they are 10-200 KB like the real
  thing, and the payload is a small part of each page.
* **Learnable.**  Within a store the values sit in the same template slot on every page;
  what varies is what varies in real data: 1-12 line items, optional discount, shipping and
  tax rows (so positions move), the order id, the date.  A wrapper-induction synthesizer should
  heal most stores; the decoy store and the JSON-only stores are the hard ones.
* **The awkward cases real data has**, on purpose: a store whose digital orders show no
  subtotal (empty label), one mislabelled ORDER_ID (the label is not in its page), a store with
  a single page (the workflow skips it), a STORE_ID that is not path-safe (``Joe's Shop/EU``),
  one store that labels money as displayed (``$1,234.50``) while the others use ``1234.50``,
  and TOTAL / ORDER_DATE labelled only for some stores (empty cells elsewhere).
* **Deterministic.**  Every store draws from its own ``random.Random`` seeded with a string
  (seeding with a str hashes it with SHA-512, independent of ``PYTHONHASHSEED``); the page
  boilerplate that is constant per store (class names, stylesheet, menu, icons) comes from a
  second per-store generator or from SHA-1 of names, so it is identical on every page of the
  store.  No clock, no sets iterated, ``csv`` with ``lineterminator="\\n"``, UTF-8 without BOM.

All names, products, people, addresses and domains (``*.example``) are made up from word lists.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import html
import io
import json
import random
import string
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from .io import atomic_write_text
from .scoring import is_present

__all__ = [
    "COLUMNS",
    "DEFAULT_OUT",
    "DEFAULT_SEED",
    "STORES",
    "StoreSpec",
    "generate_rows",
    "render_csv",
    "new_store_pages",
    "render_new_pages_csv",
    "main",
]

DEFAULT_SEED = 20240305
DEFAULT_OUT = "store_data/Store_OCP_Data.csv"
COLUMNS = (
    "STORE_ID",
    "RAW_DOM",
    "GROUND_TRUTH_ORDER_ID",
    "GROUND_TRUTH_SUBTOTAL",
    "GROUND_TRUTH_TOTAL",
    "GROUND_TRUTH_ORDER_DATE",
)
CENT = Decimal("0.01")
esc = html.escape

# --------------------------------------------------------------------------------------------
# Word lists (everything is fictional)
# --------------------------------------------------------------------------------------------

_FIRST = (
    "Ada Bram Carys Dario Elin Farid Greta Hollis Ines Jonah Kaia Lenno Mirela Nils Odette "
    "Pavel Quinn Rosalind Sefa Tobin Una Vito Wren Yusra Zeno Maren Teodor Liesel Anouk Emrys"
).split()
_LAST = (
    "Ashcombe Brightwater Castellan Dunmore Everly Fairweather Galloway Hartwell Ivanova Juniper "
    "Kestrel Lindqvist Marlowe Northcott Oakhurst Pemberton Quillon Rowntree Stroud Thornbury "
    "Underhill Vance Whitlock Brenner Falkenrath Sommerfeld"
).split()
_STREET_A = "Birch Cedar Elm Harbor Juniper Lantern Mill Orchard Quarry Sparrow Willow Foxglove".split()
_STREET_B = "Street Avenue Lane Road Court Way Terrace Drive".split()
_TOWN_A = "Ash Bram Cold Dun Elder Fair Glen Hollow Kings Lark Marsh North Oak Pine Red Stone".split()
_TOWN_B = "bury ford field haven mere ridge stead ton vale wick brook port".split()
_US_STATES = "OR WA CA CO MN VT ME NC TX IL MI NY".split()
_DE_STREET_A = "Linden Birken Mühlen Garten Schiller Rosen Brunnen Kastanien Eichen".split()
_DE_STREET_B = "straße weg allee gasse ring".split()
_DE_TOWN = "Lindenau Birkenfelde Ostermoor Falkenried Hohenbrück Weidental Sonnwalde".split()
_EN_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_EN_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_ALNUM = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Catalog:
    """What a store sells: product names are ``pattern`` filled from the word lists."""

    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]
    variants: tuple[str, ...]
    sections: tuple[str, ...]
    price_range: tuple[int, int]
    pattern: str = "{adj} {noun}"


def _catalog(adjectives: str, nouns: str, variants: str, sections: str, lo: int, hi: int,
             pattern: str = "{adj} {noun}") -> Catalog:
    """A catalog from ``|``-separated word lists (keeps the tables below compact)."""
    return Catalog(*(tuple(s.split("|")) for s in (adjectives, nouns, variants, sections)),
                   price_range=(lo, hi), pattern=pattern)


CATALOGS = {
    "hardware": _catalog(
        "Heavy-Duty|Galvanized|Cordless|Adjustable|Stainless Steel|Compact|Magnetic|Folding|"
        "Insulated|Contractor-Grade|Rust-Resistant",
        "Claw Hammer|Socket Set|Deck Screws, 5 lb Box|Utility Knife|25 ft Tape Measure|"
        "LED Work Light|Pipe Wrench|Drill Bit Set|Extension Cord|Sawhorse Pair|Caulk Gun|"
        "Torpedo Level|Pry Bar|Shop Vacuum|Hose Reel",
        "|Red|Black|12 in|18 in|Pack of 2|20V",
        "Tools|Hardware|Electrical|Plumbing|Paint|Lawn & Garden|Storage|Lighting", 4, 189),
    "apparel": _catalog(
        "Merino|Organic Cotton|Relaxed|Slim|Waffle-Knit|Recycled|Brushed|Lightweight|Cropped",
        "Crew Tee|Hoodie|Chore Jacket|Wide-Leg Trouser|Oxford Shirt|Beanie|Crew Socks, 3-Pack|"
        "Quarter-Zip|Rain Shell|Linen Shorts|Cardigan",
        "Size S / Slate|Size M / Oat|Size L / Ink|Size XL / Moss|Size M / Clay|Size S / Fog",
        "New In|Women|Men|Knitwear|Outerwear|Basics|Accessories|Sale", 12, 240),
    "books": _catalog(
        "Silent|Northern|Forgotten|Salt|Paper|Winter|Hidden|Lantern|Tidal|Copper",
        "Cartographer|Harbour|Almanac|Orchard|Lighthouse|Atlas|Archipelago|Field Guide|"
        "Correspondence|Expedition",
        "Paperback|Hardcover|Folded Map|Large Print",
        "Fiction|Travel|Maps & Charts|Nature|History|Children|Gifts|Staff Picks", 8, 65,
        pattern="The {adj} {noun}"),
    "garden": _catalog(
        "Heirloom|Dwarf|Organic|Raised|Self-Watering|Cedar|Frost-Hardy|Perennial|Trailing",
        "Tomato Seedlings|Planter Box|Pruning Shears|Potting Mix, 40 qt|Trellis|"
        "Lavender Plug Tray|Watering Can|Bird Feeder|Soaker Hose|Garden Gloves|Compost Bin",
        "|Small|Large|Set of 3|6-Pack",
        "Seeds|Plants|Pots & Planters|Tools|Soil & Feed|Watering|Outdoor Living|Wildlife", 3, 160),
    "kitchen": _catalog(
        "Enameled|Tri-Ply|Hand-Hammered|Nonstick|Carbon Steel|Cast Iron|Copper-Core|Stoneware",
        "Dutch Oven|Saucepan|Chef's Knife|Cutting Board|Tea Kettle|Skillet|Mixing Bowl Set|"
        "Pour-Over Dripper|Spice Grinder|Roasting Pan|Utensil Crock",
        "|3.5 qt|5.5 qt|10 in|12 in|Sage|Cream|Graphite",
        "Cookware|Bakeware|Knives|Coffee & Tea|Tools|Tabletop|Storage|Gifts", 9, 420),
    "outdoor": _catalog(
        "Waxed Canvas|Packable|Insulated|Waterproof|Ripstop|Fleece-Lined|Ultralight|Quick-Dry",
        "Field Jacket|Daypack 24L|Camp Blanket|Trail Runner|Bucket Hat|Dry Bag|Headlamp|"
        "Flannel Shirt|Hiking Sock|Camp Mug|Rain Poncho",
        "Size S|Size M|Size L|Olive|Navy|Rust|One Size",
        "Jackets|Packs|Camp|Footwear|Shirts|Accessories|Kids|Clearance", 14, 320),
    "electronics": _catalog(
        "Wireless|Noise-Cancelling|4K|Portable|Smart|USB-C|Mechanical|Ergonomic|Fast-Charging",
        'Headphones|Monitor 27"|Bluetooth Speaker|Power Bank 20000mAh|Webcam|Keyboard|Mouse|'
        "Charging Stand|Streaming Stick|Router|SSD 1TB",
        "Black|White|Graphite|Midnight Blue|",
        "Computers|Audio|TV & Video|Phones|Gaming|Smart Home|Cameras|Deals", 9, 899),
    "haushalt": _catalog(
        "Edelstahl|Bambus|Keramik|Leinen|Glas|Eichenholz|Emaille|Baumwoll|Kupfer|Filz",
        "Brotdose|Tasse|Geschirrtuch|Vorratsglas|Schneidebrett|Kerzenhalter|Wäschekorb|"
        "Servierschale|Thermoskanne|Untersetzer, 4er-Set|Gewürzregal",
        "|Natur|Anthrazit|Salbei|Weiß|2er-Set",
        "Küche|Wohnen|Bad|Aufbewahrung|Textilien|Geschenke|Neuheiten|Sale", 4, 180,
        pattern="{adj}-{noun}"),
    "crafts": _catalog(
        "Hand-Dyed|Merino|Linen|Walnut|Brass|Beeswax|Recycled|Botanical|Pastel",
        "Yarn Skein|Embroidery Kit|Knitting Needles|Sketchbook A5|Watercolour Set|Candle Kit|"
        "Macramé Cord|Bookbinding Thread|Fabric Bundle|Stitch Markers|Crochet Hook Set",
        "|Sage|Ochre|Rose|Indigo|4 mm|6 mm",
        "Yarn|Kits|Paper|Paint|Sewing|Candles|Tools|Workshops", 3, 95),
    "tea": _catalog(
        "Smoky|Roasted|First Flush|Jasmine|Spiced|Wild|Mountain|Golden|Toasted",
        "Oolong|Black Tea|Green Tea|Chai Blend|Tisane|Pu-erh Cake|Matcha Tin|Tea Sampler",
        "50 g|100 g|250 g|",
        "Tea|Teaware|Gifts|Subscriptions|Brewing Guides", 6, 78),
}

_DIGITAL_VARIANTS = ("eBook (EPUB)", "Audiobook (MP3)", "Gift Card")

_UI = {
    "en": {
        "skip": "Skip to content", "search": "Search", "account": "Account", "help": "Help",
        "cart": "Cart", "newsletter": "Get 10% off your next order",
        "subscribe": "Subscribe", "email": "Email address", "rights": "All rights reserved.",
        "also": "You may also like", "add": "Add to cart", "reviews": "reviews",
        "shop_all": "Shop all", "new": "New arrivals", "shop": "Shop",
        "columns": {
            "Customer care": "Contact us|Shipping|Returns & exchanges|Order status|FAQ|Gift cards",
            "Company": "About us|Careers|Press|Sustainability|Store locator",
            "Legal": "Privacy policy|Terms of use|Cookie settings|Accessibility",
        },
    },
    "de": {
        "skip": "Zum Inhalt springen", "search": "Suche", "account": "Mein Konto", "help": "Hilfe",
        "cart": "Warenkorb", "newsletter": "10 % Rabatt auf Ihre nächste Bestellung",
        "subscribe": "Anmelden", "email": "E-Mail-Adresse", "rights": "Alle Rechte vorbehalten.",
        "also": "Das könnte Ihnen auch gefallen", "add": "In den Warenkorb",
        "reviews": "Bewertungen", "shop_all": "Alles aus", "new": "Neuheiten",
        "shop": "Sortiment",
        "columns": {
            "Kundenservice": "Kontakt|Versand|Rückgabe & Umtausch|Bestellstatus|FAQ|Gutscheine",
            "Unternehmen": "Über uns|Karriere|Presse|Nachhaltigkeit",
            "Rechtliches": "Impressum|Datenschutz|AGB|Widerrufsbelehrung|Cookie-Einstellungen",
        },
    },
}

# Semantic names of page parts; each store maps them to its own class names (see Theme.c).
_UI_PARTS = (
    "skip-link announcement header header-inner logo search utility-nav cart-link cart-count "
    "main-nav nav-list nav-item mega-menu mega-col footer footer-newsletter footer-columns "
    "footer-col footer-payments footer-legal visually-hidden btn btn-primary input main page "
    "stack title muted meta-grid meta-cell meta-label meta-value lines line thumb line-body "
    "line-name line-variant line-qty line-price summary summary-row summary-label summary-value "
    "recs recs-grid card card-media card-body card-title card-price card-rating badge layout "
    "sidebar confirmation order-meta items item totals loyalty mini-cart promo confirm-title "
    "order-number order-summary summary-amount savings history history-item upsell skeleton "
    "skeleton-line notice address-block tracking grid col toast"
).split()

_CSS_PROPS = (
    "display:flex", "display:grid", "display:block", "display:inline-flex", "align-items:center",
    "justify-content:space-between", "gap:{n}px", "margin:0 0 {n}px", "padding:{n}px {m}px",
    "font-size:{r}rem", "font-weight:{w}", "line-height:1.{k}", "color:{c}", "background:{c}",
    "border:1px solid {c}", "border-radius:{n}px", "text-transform:uppercase",
    "letter-spacing:.0{k}em", "max-width:{x}px", "grid-template-columns:repeat({k},minmax(0,1fr))",
    "transition:color .2s ease,background-color .2s ease", "box-shadow:0 1px {n}px rgba(0,0,0,.08)",
    "white-space:nowrap", "overflow:hidden", "text-overflow:ellipsis", "position:relative",
    "flex:1 1 auto", "min-width:0", "text-decoration:none", "cursor:pointer", "width:100%",
)

_CSS_RESET = (
    "*,*::before,*::after{box-sizing:border-box}html{-webkit-text-size-adjust:100%;"
    "line-height:1.15}body{margin:0;font-family:var(--font-body);color:var(--ink);"
    "background:var(--paper)}img,svg{display:block;max-width:100%;height:auto}button,input,"
    "select,textarea{font:inherit;color:inherit}a{color:var(--link)}h1,h2,h3,p,ul,ol,dl,dd{margin:0}"
    "ul[role=list],ol[role=list]{list-style:none;padding:0}table{border-collapse:collapse}"
    "[hidden]{display:none!important}:focus-visible{outline:2px solid var(--accent);"
    "outline-offset:2px}@media (prefers-reduced-motion:reduce){*{animation:none!important;"
    "transition:none!important}}\n"
)

# --------------------------------------------------------------------------------------------
# Formatting helpers
# --------------------------------------------------------------------------------------------


def fmt_money(amount: Decimal, style: str) -> str:
    """``amount`` as a store shows it: us ``$1,234.50``, uk ``£1,234.50``, eu ``1.234,50 €``
    (with ``&nbsp;``), plain ``1234.50`` (labels, JSON)."""
    q = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    whole, frac = f"{abs(q):.2f}".split(".")
    grouped = f"{int(whole):,}"
    if style == "plain":
        return f"{sign}{whole}.{frac}"
    if style == "eu":
        return f"{sign}{grouped.replace(',', '.')},{frac}&nbsp;€"
    symbol = {"us": "$", "uk": "£"}[style]
    return f"{sign}{symbol}{grouped}.{frac}"


_DATE_STYLES: dict[str, Callable[[dt.date], str]] = {
    "us_long": lambda d: f"{_EN_MONTHS[d.month - 1]} {d.day}, {d.year}",
    "us_weekday": lambda d: f"{_EN_DAYS[d.weekday()]}, {_EN_MONTHS[d.month - 1]} {d.day}, {d.year}",
    "us_short": lambda d: f"{_EN_MONTHS[d.month - 1][:3]} {d.day}, {d.year}",
    "us_num": lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}",
    "de_num": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "uk_short": lambda d: f"{d.day} {_EN_MONTHS[d.month - 1][:3]} {d.year}",
    "en_long": lambda d: f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}",
    "iso": lambda d: d.isoformat(),
}


def fmt_date(day: dt.date, style: str) -> str:
    return _DATE_STYLES[style](day)


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _token(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _slug(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    return "-".join(part for part in out.split("-") if part)


def _price(rng: random.Random, lo: int, hi: int) -> Decimal:
    cents = rng.choice(("0.99", "0.49", "0.95", "0.00", "0.50", "0.25", "0.99"))
    return Decimal(rng.randint(lo, hi)) + Decimal(cents)


def _svg_path(rng: random.Random, segments: int) -> str:
    """Plausible icon path data (``M``/``c``/``l`` commands on a 24-unit grid)."""
    parts = [f"M{rng.randint(2, 22)} {rng.randint(2, 22)}"]
    for _ in range(segments):
        if rng.random() < 0.6:
            nums = " ".join(f"{rng.uniform(-9, 9):.2f}" for _ in range(6))
            parts.append(f"c{nums}")
        else:
            parts.append(f"l{rng.uniform(-8, 8):.2f} {rng.uniform(-8, 8):.2f}")
    return "".join(parts) + "z"


def _svg(path: str, label: str = "", size: int = 24) -> str:
    aria = f' role="img" aria-label="{label}"' if label else ' aria-hidden="true" focusable="false"'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            f'viewBox="0 0 24 24"{aria}><path fill="currentColor" d="{path}"/></svg>')


# --------------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    name: str
    variant: str
    sku: str
    qty: int
    unit: Decimal

    @property
    def line(self) -> Decimal:
        return self.unit * self.qty


@dataclass(frozen=True)
class Customer:
    first: str
    last: str
    email: str
    street: str
    town: str
    postcode: str
    region: str
    country: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    def lines(self) -> list[str]:
        if self.country == "Deutschland":
            return [self.name, self.street, f"{self.postcode} {self.town}", self.country]
        town = f"{self.town}, {self.region}" if self.region else self.town
        return [self.name, self.street, f"{town} {self.postcode}", self.country]


@dataclass(frozen=True)
class Order:
    order_id: str              # as displayed, without a leading '#'
    placed: dt.date
    customer: Customer
    items: tuple[Item, ...]
    discount: Decimal          # 0: no discount row
    promo: str
    shipping: Decimal | None   # None: no shipping row (digital order); 0: free
    tax: Decimal | None        # None: no tax row
    tax_included: bool         # VAT included in prices (shown as a note, not added)
    payment: str
    show_subtotal: bool = True

    @property
    def subtotal(self) -> Decimal:
        return sum((it.line for it in self.items), Decimal(0))

    @property
    def total(self) -> Decimal:
        extra = (self.shipping or Decimal(0)) + (Decimal(0) if self.tax_included else self.tax or 0)
        return self.subtotal - self.discount + extra

    @property
    def units(self) -> int:
        return sum(it.qty for it in self.items)


def _customer(rng: random.Random, region: str) -> Customer:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    email = f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@mail.example"
    if region == "de":
        street = f"{rng.choice(_DE_STREET_A)}{rng.choice(_DE_STREET_B)} {rng.randint(1, 120)}"
        return Customer(first, last, email, street, rng.choice(_DE_TOWN),
                        f"{rng.randint(10000, 99999)}", "", "Deutschland")
    street = f"{rng.randint(2, 9800)} {rng.choice(_STREET_A)} {rng.choice(_STREET_B)}"
    town = rng.choice(_TOWN_A) + rng.choice(_TOWN_B)
    if region == "uk":
        postcode = f"{rng.choice('BCDLMNST')}{rng.choice('AEHLNRS')}{rng.randint(1, 29)} " \
                   f"{rng.randint(1, 9)}{_token(rng, 2, 'ABDEFGHJLNPQRSTUWXYZ')}"
        return Customer(first, last, email, street, town, postcode, "", "United Kingdom")
    return Customer(first, last, email, street, town, f"{rng.randint(10000, 99999)}",
                    rng.choice(_US_STATES), "United States")


def _product(rng: random.Random, cat: Catalog) -> tuple[str, str, Decimal]:
    """A product name, variant and price; the price level belongs to the noun, so a box of
    screws stays cheaper than a shop vacuum."""
    noun = rng.choice(cat.nouns)
    name = cat.pattern.format(adj=rng.choice(cat.adjectives), noun=noun)
    lo, hi = cat.price_range
    level = int(hashlib.sha1(noun.encode()).hexdigest()[:6], 16) / 0xFFFFFF
    base = lo + (hi - lo) * level * level
    price = _price(rng, max(lo, int(base * 0.75)), max(lo, int(base * 1.25)))
    return name, rng.choice(cat.variants), price


def _items(rng: random.Random, spec: StoreSpec, digital: bool) -> tuple[Item, ...]:
    cat = CATALOGS[spec.catalog]
    count = rng.choices(range(1, 13), weights=(22, 20, 15, 11, 8, 6, 5, 4, 3, 2, 2, 2))[0]
    items = []
    for _ in range(count):
        name, variant, price = _product(rng, cat)
        if digital:
            variant = rng.choice(_DIGITAL_VARIANTS)
        qty = rng.choices((1, 2, 3, 4, 6), weights=(70, 16, 7, 4, 3))[0]
        sku = f"{spec.sku_prefix}{rng.randint(10000, 99999)}{rng.choice('ABCDEFGH')}"
        items.append(Item(name, variant, sku, qty, price))
    return tuple(items)


def _make_order(rng: random.Random, spec: StoreSpec, seq: int, placed: dt.date,
                digital: bool) -> Order:
    items = _items(rng, spec, digital)
    subtotal = sum((it.line for it in items), Decimal(0))
    discount, promo = Decimal(0), ""
    if rng.random() < 0.3:
        pct = rng.choice((10, 15, 20))
        discount = (subtotal * pct / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        promo = rng.choice(("SPRING", "WELCOME", "LOYAL", "FALL", "THANKS")) + str(pct)
    shipping: Decimal | None = None
    if not digital:
        free = subtotal >= spec.free_shipping_over
        shipping = Decimal(0) if free else rng.choice((Decimal("5.99"), Decimal("7.95"),
                                                       Decimal("12.50"), Decimal("4.90")))
    tax: Decimal | None = None
    base = subtotal - discount + (shipping or 0)
    if spec.region == "de":
        tax = (base * 19 / 119).quantize(CENT, rounding=ROUND_HALF_UP)
    elif spec.region == "uk" or rng.random() < spec.tax_share:
        rate = Decimal(rng.choice(("0.0625", "0.0725", "0.0825", "0.0875", "0.06")))
        tax = (base * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    brand = rng.choice(("Visa", "Mastercard", "Amex", "Discover"))
    payment = rng.choice((f"{brand} ending in {rng.randint(1000, 9999)}", "PayPal", "Gift card"))
    return Order(
        order_id=spec.new_id(rng, seq, placed), placed=placed,
        customer=_customer(rng, spec.region), items=items, discount=discount, promo=promo,
        shipping=shipping, tax=tax, tax_included=spec.region in ("de", "uk"), payment=payment,
        show_subtotal=not digital,
    )


# --------------------------------------------------------------------------------------------
# Store specs and per-store theme (the constant part of a store's pages)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreSpec:
    store_id: str
    name: str
    domain: str
    family: Callable[[Theme, random.Random, Order], str]
    pages: int
    catalog: str
    new_id: Callable[[random.Random, int, dt.date], str]
    money: str = "us"                  # display style, see fmt_money
    date_style: str = "us_long"
    region: str = "us"                 # us | uk | de: addresses, tax rules
    lang: str = "en"
    class_style: str = "bem"           # bem | hashed | plain
    sku_prefix: str = ""
    label_money_displayed: bool = False
    extra_fields: bool = False         # also label TOTAL and ORDER_DATE
    digital_share: float = 0.0         # orders without subtotal (and without shipping)
    label_error_page: int | None = None
    tax_share: float = 0.7
    free_shipping_over: Decimal = Decimal(75)


@dataclass(frozen=True)
class Theme:
    spec: StoreSpec
    palette: tuple[str, ...]
    css: str
    nav: tuple[tuple[str, tuple[str, ...]], ...]
    icons: dict[str, str]
    chunks: tuple[str, ...]
    build: str
    tag_id: str

    def c(self, part: str) -> str:
        """The class name this store's build gives the page part ``part``."""
        style = self.spec.class_style
        if style == "hashed":
            digest = int(hashlib.sha1(f"{self.spec.store_id}:{part}".encode()).hexdigest(), 16)
            chars = string.digits + string.ascii_lowercase
            return "css-" + "".join(chars[(digest >> (5 * i)) % 36] for i in range(7))
        if style == "plain":
            return part
        return f"{self.spec.sku_prefix.lower() or 'x'}-{part}"

    def m(self, amount: Decimal) -> str:
        return fmt_money(amount, self.spec.money)

    def d(self, day: dt.date) -> str:
        return fmt_date(day, self.spec.date_style)

    @property
    def ui(self) -> dict:
        return _UI[self.spec.lang]

    @property
    def cdn(self) -> str:
        return f"https://cdn.{self.spec.domain}"


def _stylesheet(rng: random.Random, theme_c: Callable[[str], str], palette: tuple[str, ...]) -> str:
    """A generated but plausible stylesheet: variables, reset, one rule per page part."""
    fonts = rng.sample(("Inter", "Lora", "Work Sans", "Source Serif", "Karla", "Rubik"), 2)
    out = [":root{" + ";".join(f"--c{i}:{col}" for i, col in enumerate(palette))
           + f";--ink:{palette[0]};--paper:#fff;--link:{palette[1]};--accent:{palette[2]};"
           f"--font-body:'{fonts[0]}',system-ui,sans-serif;--font-head:'{fonts[1]}',serif}}\n",
           _CSS_RESET]
    for part in _UI_PARTS:
        decls = []
        for prop in rng.sample(_CSS_PROPS, rng.randint(3, 7)):
            decls.append(prop.format(n=rng.choice((2, 4, 8, 12, 16, 24)), m=rng.choice((8, 12, 16, 20)),
                                     r=rng.choice(("0.75", "0.875", "1", "1.125", "1.5")),
                                     w=rng.choice((400, 500, 600, 700)), k=rng.randint(2, 5),
                                     c=rng.choice(palette), x=rng.choice((320, 480, 720, 1200))))
        cls = theme_c(part)
        out.append(f".{cls}{{{';'.join(decls)}}}")
        if rng.random() < 0.3:
            out.append(f".{cls}:hover{{color:{rng.choice(palette)}}}")
        if rng.random() < 0.25:
            out.append(f"@media (min-width:{rng.choice((640, 768, 1024))}px){{.{cls}"
                       f"{{padding:{rng.choice((12, 16, 24))}px}}}}")
    return "\n".join(out)


def _make_theme(spec: StoreSpec, seed: int) -> Theme:
    rng = random.Random(f"autoheal-demo-theme:{seed}:{spec.store_id}")
    palette = tuple(f"#{rng.randrange(0x202020, 0xE0E0E0):06x}" for _ in range(5))
    cat = CATALOGS[spec.catalog]
    nav = tuple(
        (section, tuple(rng.sample(cat.nouns, min(len(cat.nouns), rng.randint(5, 9)))))
        for section in cat.sections
    )
    icons = {name: _svg_path(rng, rng.randint(5, 12))
             for name in ("logo", "search", "cart", "user", "star", "social1", "social2",
                          "social3", "card1", "card2", "card3")}
    chunks = tuple(f"{name}.{_hex(rng, 8)}.js"
                   for name in ("runtime", "vendor", "framework", "main", "checkout", "analytics"))
    theme = Theme(spec, palette, "", nav, icons, chunks, _hex(rng, 12),
                  f"PM-{_token(rng, 7, _ALNUM)}")
    return replace(theme, css=_stylesheet(rng, theme.c, palette))


# --------------------------------------------------------------------------------------------
# Shared page parts
# --------------------------------------------------------------------------------------------


def _head(theme: Theme, rng: random.Random, title: str, extra: str = "") -> str:
    spec, cdn = theme.spec, theme.cdn
    return f"""<!DOCTYPE html>
<html lang="{spec.lang}" class="no-js">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>{esc(title)}</title>
<meta name="robots" content="noindex, nofollow">
<meta name="description" content="{esc(spec.name)} - {esc(', '.join(CATALOGS[spec.catalog].sections[:4]))}">
<meta name="theme-color" content="{theme.palette[0]}">
<meta name="csrf-token" content="{_token(rng, 43)}">
<meta property="og:site_name" content="{esc(spec.name)}">
<meta property="og:type" content="website">
<meta property="og:image" content="{cdn}/social/og-default.{theme.build[:8]}.jpg">
<link rel="canonical" href="https://www.{spec.domain}/checkout/confirmation">
<link rel="preconnect" href="{cdn}" crossorigin>
<link rel="dns-prefetch" href="https://tags.pulsemetrics.example">
<link rel="icon" type="image/png" sizes="32x32" href="{cdn}/favicon-32.png">
<link rel="apple-touch-icon" sizes="180x180" href="{cdn}/apple-touch-icon.png">
<link rel="manifest" href="/site.webmanifest">
<link rel="preload" as="font" type="font/woff2" href="{cdn}/fonts/body-regular.{theme.build[:6]}.woff2" crossorigin>
<link rel="stylesheet" href="{cdn}/assets/app.{theme.build}.css">
<style>{theme.css}</style>
<script>window.dataLayer=window.dataLayer||[];function pmq(){{dataLayer.push(arguments)}}pmq('consent','default',{{ad_storage:'denied',analytics_storage:'granted',wait_for_update:500}});pmq('js',new Date());pmq('config','{theme.tag_id}',{{send_page_view:true,page_type:'confirmation'}});</script>
<script async src="https://tags.pulsemetrics.example/tm.js?id={theme.tag_id}"></script>
{extra}</head>
"""


def _site_header(theme: Theme, rng: random.Random, utility_extra: str = "") -> str:
    c, ui, spec = theme.c, theme.ui, theme.spec
    menus = []
    for section, subs in theme.nav:
        links = "".join(f'<li><a href="/c/{_slug(section)}/{_slug(s)}">{esc(s)}</a></li>'
                        for s in subs)
        menus.append(
            f'<li class="{c("nav-item")}"><a href="/c/{_slug(section)}" aria-haspopup="true">'
            f'{esc(section)}</a><div class="{c("mega-menu")}" hidden><div class="{c("mega-col")}">'
            f'<ul role="list">{links}<li><a href="/c/{_slug(section)}">{ui["shop_all"]} '
            f'{esc(section)}</a></li><li><a href="/c/{_slug(section)}?sort=new">{ui["new"]}</a>'
            f"</li></ul></div></div></li>"
        )
    menu = "\n".join(menus)
    return f"""<a class="{c("skip-link")}" href="#main">{ui["skip"]}</a>
<div class="{c("announcement")}" role="region" aria-label="announcement"><p>{esc(spec.name)} &middot; {ui["newsletter"]}</p></div>
<header class="{c("header")}" role="banner">
<div class="{c("header-inner")}">
<a class="{c("logo")}" href="/" aria-label="{esc(spec.name)}">{_svg(theme.icons["logo"], esc(spec.name), 32)}<span>{esc(spec.name)}</span></a>
<form class="{c("search")}" action="/search" method="get" role="search"><label for="q-{_hex(rng, 4)}" class="{c("visually-hidden")}">{ui["search"]}</label><input class="{c("input")}" name="q" type="search" autocomplete="off" placeholder="{ui["search"]}"><button class="{c("btn")}" type="submit" aria-label="{ui["search"]}">{_svg(theme.icons["search"])}</button></form>
<nav class="{c("utility-nav")}" aria-label="utility"><a href="/account">{_svg(theme.icons["user"])}<span>{ui["account"]}</span></a><a href="/help">{ui["help"]}</a>{utility_extra}<a class="{c("cart-link")}" href="/cart" aria-label="{ui["cart"]}">{_svg(theme.icons["cart"])}<span class="{c("cart-count")}">0</span></a></nav>
</div>
<nav class="{c("main-nav")}" aria-label="main"><ul class="{c("nav-list")}" role="list">
{menu}
</ul></nav>
</header>
"""


def _site_footer(theme: Theme, rng: random.Random) -> str:
    c, ui, spec = theme.c, theme.ui, theme.spec
    columns = dict(ui["columns"])
    columns[ui["shop"]] = "|".join(section for section, _ in theme.nav)
    cols = "\n".join(
        f'<div class="{c("footer-col")}"><h3>{esc(head)}</h3><ul role="list">'
        + "".join(f'<li><a href="/{_slug(link)}">{esc(link)}</a></li>' for link in links.split("|"))
        + "</ul></div>"
        for head, links in columns.items()
    )
    cards = "".join(_svg(theme.icons[k], k, 32) for k in ("card1", "card2", "card3"))
    social = "".join(f'<a href="https://social.example/{_slug(spec.name)}" rel="noopener">'
                     f'{_svg(theme.icons[k], k)}</a>' for k in ("social1", "social2", "social3"))
    return f"""<footer class="{c("footer")}" role="contentinfo">
<div class="{c("footer-newsletter")}"><h2>{ui["newsletter"]}</h2><form action="/newsletter" method="post"><input type="hidden" name="form_key" value="{_token(rng, 16)}"><label class="{c("visually-hidden")}" for="nl-email">{ui["email"]}</label><input class="{c("input")}" id="nl-email" type="email" name="email" placeholder="{ui["email"]}" required><button class="{c("btn")} {c("btn-primary")}" type="submit">{ui["subscribe"]}</button></form></div>
<div class="{c("footer-columns")}">
{cols}
</div>
<div class="{c("footer-payments")}">{cards}<div>{social}</div></div>
<div class="{c("footer-legal")}"><p>&copy; 2012&ndash;2024 {esc(spec.name)}. {ui["rights"]}</p></div>
</footer>
<!-- rendered by web-{rng.randint(1, 24):02d} in {rng.randint(18, 340)} ms, req {_hex(rng, 32)} -->
"""


def _recommendations(theme: Theme, rng: random.Random, count: int, heading: str = "") -> str:
    """Product cards with prices: realistic filler and, for extractors, decoy amounts."""
    c, ui = theme.c, theme.ui
    cat = CATALOGS[theme.spec.catalog]
    cards = []
    for _ in range(count):
        name, _variant, price = _product(rng, cat)
        img = f"{theme.cdn}/products/{_slug(name)}-{_hex(rng, 6)}"
        rating = rng.randint(30, 50) / 10
        cards.append(
            f'<li class="{c("card")}"><a class="{c("card-media")}" href="/p/{_slug(name)}">'
            f'<img loading="lazy" width="300" height="300" alt="{esc(name)}" src="{img}_300x.jpg" '
            f'srcset="{img}_300x.jpg 300w, {img}_600x.jpg 600w, {img}_900x.jpg 900w" '
            f'sizes="(min-width: 1024px) 25vw, 50vw"></a><div class="{c("card-body")}">'
            f'<h3 class="{c("card-title")}"><a href="/p/{_slug(name)}">{esc(name)}</a></h3>'
            f'<div class="{c("card-rating")}" aria-label="{rating} / 5">{_svg(theme.icons["star"], "", 14)}'
            f'{rating} ({rng.randint(3, 900)} {ui["reviews"]})</div>'
            f'<div class="{c("card-price")}">{theme.m(price)}</div>'
            f'<button class="{c("btn")}" type="button" data-sku="{_hex(rng, 8)}">{ui["add"]}</button>'
            f"</div></li>"
        )
    heading = heading or ui["also"]
    return (f'<section class="{c("recs")}" aria-label="{esc(heading)}"><h2>{esc(heading)}</h2>'
            f'<ul class="{c("recs-grid")}" role="list">\n' + "\n".join(cards) + "\n</ul></section>\n")


def _tail_scripts(theme: Theme, rng: random.Random, flags: int = 24) -> str:
    """Feature flags, chunk scripts and a tracking pixel, as a bundler would leave them."""
    words = ("checkout", "reco", "search", "promo", "cart", "review", "loyalty", "wishlist")
    state = {"_".join(rng.sample(words, 2)) + f"_v{rng.randint(1, 9)}": rng.random() < 0.5
             for _ in range(flags)}
    chunk_tags = "\n".join(f'<script defer src="{theme.cdn}/static/js/{chunk}"></script>'
                           for chunk in theme.chunks)
    return f"""<script>window.__FLAGS__={json.dumps(state, separators=(",", ":"))};window.__BUILD__="{theme.build}";</script>
{chunk_tags}
<noscript><img height="1" width="1" style="display:none" alt="" src="https://tags.pulsemetrics.example/px?id={theme.tag_id}&amp;ev=PageView&amp;cb={_hex(rng, 10)}"></noscript>
"""


def _document(theme: Theme, rng: random.Random, title: str, main: str, *, head_extra: str = "",
              utility_extra: str = "", recs: int | None = None) -> str:
    """A whole storefront page around ``main``."""
    count = rng.randint(4, 12) if recs is None else recs
    return (
        _head(theme, rng, title, head_extra)
        + f'<body class="template-confirmation {theme.c("page")}">\n'
        + _site_header(theme, rng, utility_extra)
        + f'<main id="main" class="{theme.c("main")}">\n{main}\n'
        + (_recommendations(theme, rng, count) if count else "")
        + "</main>\n"
        + _site_footer(theme, rng)
        + _tail_scripts(theme, rng)
        + "</body>\n</html>\n"
    )


# Summary-row wording per template family ({code}: promo code, {n}: number of units;
# "total_only": the total's label on pages without a subtotal row).
_SUMMARY_LABELS: dict[str, dict[str, str]] = {
    "table": {"subtotal": "Merchandise Subtotal:", "discount": "Coupon ({code}):",
              "shipping": "Shipping &amp; Handling:", "tax": "Sales Tax:", "total": "Order Total:"},
    "divsoup": {"subtotal": "Subtotal", "discount": "Promo {code}", "shipping": "Shipping",
                "tax": "Estimated tax", "total": "Total"},
    "deflist": {"subtotal": "Subtotal", "discount": "Discount ({code})", "shipping": "Postage",
                "tax": "Tax", "total": "Total", "total_only": "Total charged"},
    "email": {"subtotal": "Subtotal", "discount": "Discount ({code})", "shipping": "Shipping",
              "tax": "Tax", "total": "Order total"},
    "decoys": {"subtotal": "Subtotal ({n} items)", "discount": "Promo code {code}",
               "shipping": "Shipping", "tax": "Estimated tax", "total": "Order total"},
    "german_grid": {"subtotal": "Zwischensumme", "discount": "Gutschein {code}",
                    "shipping": "Versandkosten", "tax": "MwSt.", "total": "Gesamtsumme",
                    "free": "kostenlos"},
    "microdata": {"subtotal": "Subtotal", "discount": "Voucher {code}", "shipping": "Delivery",
                  "tax": "VAT", "total": "Total (incl. VAT)"},
}


def _summary_lines(theme: Theme, order: Order, family: str) -> list[tuple[str, str, str]]:
    """The order's summary rows as (key, label, displayed amount), in page order.

    Optional rows (discount, shipping, tax) come and go, so positions of the values move."""
    labels = _SUMMARY_LABELS[family]
    rows = []
    if order.show_subtotal:
        rows.append(("subtotal", labels["subtotal"], theme.m(order.subtotal)))
    if order.discount:
        rows.append(("discount", labels["discount"], theme.m(-order.discount)))
    if order.shipping is not None:
        rows.append(("shipping", labels["shipping"],
                     theme.m(order.shipping) if order.shipping else labels.get("free", "Free")))
    if order.tax is not None and not order.tax_included:
        rows.append(("tax", labels["tax"], theme.m(order.tax)))
    total = labels["total"] if order.show_subtotal else labels.get("total_only", labels["total"])
    rows.append(("total", total, theme.m(order.total)))
    return [(key, label.format(code=order.promo, n=order.units), value)
            for key, label, value in rows]


def _address(customer: Customer) -> str:
    return "<br>".join(esc(line) for line in customer.lines() if line)


def _variant(item: Item) -> str:
    return f" &ndash; {esc(item.variant)}" if item.variant else ""


def _image(theme: Theme, item: Item, size: int) -> str:
    return (f'<img src="{theme.cdn}/products/{_slug(item.name)}_{size}x.jpg" width="{size}" '
            f'height="{size}" alt="{esc(item.name)}">')


def _div_line(theme: Theme, item: Item, size: int, details: str) -> str:
    """A line item as component-built storefronts write it: thumbnail, name + details, price."""
    c = theme.c
    return (f'<div class="{c("line")}"><div class="{c("thumb")}">{_image(theme, item, size)}</div>'
            f'<div class="{c("line-body")}"><div class="{c("line-name")}">{esc(item.name)}</div>'
            f'{details}</div><div class="{c("line-price")}">{theme.m(item.line)}</div></div>')


def _div_summary(theme: Theme, order: Order, family: str, modifiers: bool = False) -> str:
    """Summary rows as ``div``/``span`` pairs; ``modifiers`` adds BEM ``--subtotal`` etc."""
    c, row = theme.c, theme.c("summary-row")
    return "\n".join(
        f'<div class="{row}{f" {row}--{key}" if modifiers else ""}"><span class="'
        f'{c("summary-label")}">{label}</span><span class="{c("summary-value")}">{value}</span></div>'
        for key, label, value in _summary_lines(theme, order, family)
    )


# --------------------------------------------------------------------------------------------
# Template families: one function each, (theme, rng, order) -> page html
# --------------------------------------------------------------------------------------------


def render_table(theme: Theme, rng: random.Random, order: Order) -> str:
    """(1) A classic server-rendered shop: layout tables, ``<tfoot>`` with the totals."""
    rows = "\n".join(
        f'<tr class="{"odd" if i % 2 else "even"}"><td class="item">{_image(theme, it, 60)}'
        f'<a href="/p/{_slug(it.name)}">{esc(it.name)}</a>{_variant(it)}</td>'
        f'<td class="sku">{it.sku}</td><td align="center">{it.qty}</td>'
        f'<td align="right">{theme.m(it.unit)}</td><td align="right">{theme.m(it.line)}</td></tr>'
        for i, it in enumerate(order.items)
    )
    foot = "\n".join(
        f'<tr class="total-{key}"><td colspan="4" align="right" class="label">{label}</td>'
        f'<td align="right" class="amount">{"<b>" + value + "</b>" if key == "total" else value}</td></tr>'
        for key, label, value in _summary_lines(theme, order, "table")
    )
    cust = order.customer
    main = f"""<table class="{theme.c("layout")}" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>
<td class="{theme.c("sidebar")}" valign="top" width="200"><ul><li><a href="/account">My Account</a></li><li><a href="/account/orders">Order History</a></li><li><a href="/account/addresses">Address Book</a></li><li><a href="/account/wishlist">Wish List</a></li></ul></td>
<td class="content" valign="top">
<h1>Thank You For Your Order!</h1>
<p>A confirmation e-mail has been sent to <b>{esc(cust.email)}</b>.</p>
<table class="orderInfo" cellpadding="4" cellspacing="0" border="0">
<tr><th align="left">Order Number:</th><td>#{order.order_id}</td></tr>
<tr><th align="left">Order Date:</th><td>{theme.d(order.placed)}</td></tr>
<tr><th align="left">Payment Method:</th><td>{esc(order.payment)}</td></tr>
</table>
<table class="addresses" width="100%" cellpadding="6"><tr><td valign="top"><b>Ship To:</b><br>{_address(cust)}</td><td valign="top"><b>Bill To:</b><br>{_address(cust)}</td></tr></table>
<table class="orderItems" width="100%" cellpadding="6" cellspacing="0" border="1">
<thead><tr><th align="left">Item</th><th>SKU</th><th>Qty</th><th align="right">Price</th><th align="right">Total</th></tr></thead>
<tbody>
{rows}
</tbody>
<tfoot>
{foot}
</tfoot>
</table>
<p><a href="/account/orders">View order status</a> | <a href="/">Continue Shopping</a></p>
</td></tr></table>"""
    return _document(theme, rng, f"Order Confirmation #{order.order_id} | {theme.spec.name}", main)


def render_divsoup(theme: Theme, rng: random.Random, order: Order) -> str:
    """(2) A React storefront: nothing but ``div``/``span`` with hashed class names."""
    c, cust = theme.c, order.customer
    lines = "\n".join(
        _div_line(theme, it, 96, f'<div class="{c("line-variant")}">{esc(it.variant)}</div>'
                                 f'<div class="{c("line-qty")}">Qty {it.qty}</div>')
        for it in order.items
    )
    summary = _div_summary(theme, order, "divsoup")
    meta = "".join(
        f'<div class="{c("meta-cell")}"><div class="{c("meta-label")}">{k}</div>'
        f'<div class="{c("meta-value")}">{v}</div></div>'
        for k, v in (("Order number", order.order_id), ("Order date", theme.d(order.placed)),
                     ("Payment", esc(order.payment)), ("Ship to", _address(cust)))
    )
    next_data = {"props": {"pageProps": {"locale": "en-US", "experiments": {
        f"exp_{_hex(rng, 4)}": rng.choice(("control", "variant_a", "variant_b")) for _ in range(6)}},
        "__N_SSP": True}, "page": "/checkout/confirmation", "buildId": theme.build,
        "isFallback": False, "gssp": True, "scriptLoader": []}
    main = f"""<div class="{c("stack")}"><div class="{c("layout")}"><div class="{c("stack")}">
<div class="{c("title")}">Thanks, {esc(cust.first)}. Your order is in.</div>
<div class="{c("muted")}">We&#x27;ll email {esc(cust.email)} when it ships.</div>
<div class="{c("meta-grid")}">{meta}</div>
<div class="{c("lines")}">
{lines}
</div></div>
<div class="{c("summary")}"><div class="{c("title")}">Order summary</div>{summary}</div>
</div></div>
<script id="__NEXT_DATA__" type="application/json">{json.dumps(next_data, separators=(",", ":"))}</script>"""
    return _document(theme, rng, f"Order confirmed | {theme.spec.name}", main)


def _dl(cls: str, pairs: list[tuple[str, str]]) -> str:
    return f'<dl class="{cls}">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in pairs) + "</dl>"


def render_deflist(theme: Theme, rng: random.Random, order: Order) -> str:
    """(3) Semantic markup: definition lists for the order facts, the items and the totals.
    Digital orders have no subtotal and no shipping row."""
    c, cust = theme.c, order.customer
    items = "\n".join(
        "<li>" + _dl(c("item"), [
            ("Title", f'<a href="/books/{_slug(it.name)}">{esc(it.name)}</a>'),
            ("Format", esc(it.variant)), ("Quantity", str(it.qty)), ("Price", theme.m(it.unit)),
        ]) + "</li>"
        for it in order.items
    )
    totals = [(label, value) for _key, label, value in _summary_lines(theme, order, "deflist")]
    delivery = "Postage to:<br>" + _address(cust) if order.shipping is not None else \
        "Digital delivery: download links are in your library and your e-mail."
    facts = [("Order number", order.order_id), ("Date", theme.d(order.placed)),
             ("Payment", esc(order.payment)), ("Delivery", delivery)]
    main = f"""<article class="{c("confirmation")}">
<h1>Order received</h1>
<p>Thank you, {esc(cust.first)}. A receipt has been sent to {esc(cust.email)}.</p>
{_dl(c("order-meta"), facts)}
<h2>Items</h2>
<ol class="{c("items")}">
{items}
</ol>
<h2>Summary</h2>
{_dl(c("totals"), totals)}
</article>"""
    return _document(theme, rng, f"Order {order.order_id} | {theme.spec.name}", main)


def render_jsonld(theme: Theme, rng: random.Random, order: Order) -> str:
    """(4) The visible summary is a client-side widget; the amounts exist only in the
    schema.org ``Order`` in JSON-LD (one line, as minifiers leave it)."""
    c, cust = theme.c, order.customer
    plain = lambda amount: fmt_money(amount, "plain")  # noqa: E731
    specs = [{"@type": "UnitPriceSpecification", "name": key.capitalize(),
              "price": plain(amount), "priceCurrency": "USD"}
             for key, amount in (("subtotal", order.subtotal), ("discount", -order.discount),
                                 ("shipping", order.shipping), ("tax", order.tax))
             if amount is not None and (key != "discount" or order.discount)]
    ld = {
        "@context": "https://schema.org", "@type": "Order", "orderNumber": order.order_id,
        "orderDate": f"{order.placed.isoformat()}T{rng.randint(6, 22):02d}:{rng.randint(0, 59):02d}:00-07:00",
        "orderStatus": "https://schema.org/OrderProcessing",
        "merchant": {"@type": "Organization", "name": theme.spec.name},
        "customer": {"@type": "Person", "name": cust.name},
        "acceptedOffer": [{"@type": "Offer", "itemOffered": {"@type": "Product", "name": it.name,
                                                              "sku": it.sku},
                           "price": plain(it.unit), "priceCurrency": "USD",
                           "eligibleQuantity": {"@type": "QuantitativeValue", "value": it.qty}}
                          for it in order.items],
        "priceSpecification": specs,
        "partOfInvoice": {"@type": "Invoice", "paymentStatus": "https://schema.org/PaymentComplete",
                          "totalPaymentDue": {"@type": "MonetaryAmount",
                                              "value": plain(order.total), "currency": "USD"}},
    }
    site = {"@context": "https://schema.org", "@type": "WebSite", "name": theme.spec.name,
            "url": f"https://www.{theme.spec.domain}/",
            "potentialAction": {"@type": "SearchAction", "query-input": "required name=q",
                                "target": f"https://www.{theme.spec.domain}/search?q={{q}}"}}
    head = "".join(f'<script type="application/ld+json">{json.dumps(doc)}</script>\n'
                   for doc in (site, ld))
    items = "\n".join(
        f'<li class="{c("line")}">{_image(theme, it, 80)}<span class="{c("line-name")}">{esc(it.name)}'
        f'</span><span class="{c("line-variant")}">{esc(it.variant)}</span>'
        f'<span class="{c("line-qty")}">&times; {it.qty}</span></li>'
        for it in order.items
    )
    skeleton = "".join(f'<div class="{c("skeleton-line")}" style="width:{rng.randint(40, 95)}%"></div>'
                       for _ in range(5))
    main = f"""<section class="{c("confirmation")}">
<h1 class="{c("confirm-title")}">Thanks for growing with us, {esc(cust.first)}!</h1>
<p>Your order <strong>{order.order_id}</strong> is confirmed. We will send tracking details to {esc(cust.email)}.</p>
<ul class="{c("items")}" role="list">
{items}
</ul>
<order-summary class="{c("order-summary")}" data-order="{order.order_id}" data-endpoint="/api/v2/orders/{order.order_id}/summary" data-nonce="{_hex(rng, 16)}"><div class="{c("skeleton")}" aria-busy="true">{skeleton}</div></order-summary>
<div class="{c("address-block")}"><h2>Shipping to</h2><p>{_address(cust)}</p></div>
</section>"""
    return _document(theme, rng, f"Order confirmed - {theme.spec.name}", main, head_extra=head)


def render_state_blob(theme: Theme, rng: random.Random, order: Order) -> str:
    """(5) A single-page app: an empty shell and ``window.__INITIAL_STATE__`` with everything,
    including a large catalogue slice (prices that are not the order's)."""
    cust, cat = order.customer, CATALOGS[theme.spec.catalog]

    def money(amount: Decimal) -> dict:
        return {"amount": fmt_money(amount, "plain"), "currency": "USD",
                "formatted": fmt_money(amount, "us")}

    totals = {"subtotal": money(order.subtotal)}
    if order.discount:
        totals["discount"] = {**money(-order.discount), "code": order.promo}
    if order.shipping is not None:
        totals["shipping"] = money(order.shipping)
    if order.tax is not None:
        totals["tax"] = money(order.tax)
    totals["grandTotal"] = money(order.total)
    products = []
    for _ in range(rng.randint(50, 110)):
        name, variant, price = _product(rng, cat)
        products.append({"id": _hex(rng, 10), "title": name, "variant": variant or None,
                         "price": money(price),
                         "rating": round(rng.uniform(3, 5), 1), "reviews": rng.randint(0, 2500),
                         "image": f"{theme.cdn}/img/{_slug(name)}-{_hex(rng, 6)}.webp",
                         "badges": rng.sample(("new", "bestseller", "limited", "eco"), rng.randint(0, 2))})
    state = {
        "app": {"buildId": theme.build, "locale": "en-US", "currency": "USD",
                "requestId": _hex(rng, 32), "env": "production"},
        "user": {"isLoggedIn": True, "firstName": cust.first,
                 "loyalty": {"tier": rng.choice(("Copper", "Silver", "Gold")),
                             "memberId": f"{rng.randint(100, 999)}-{rng.randint(10**6, 10**7 - 1)}",
                             "points": rng.randint(0, 9000)}},
        "checkout": {"step": "confirmation", "order": {
            "orderId": order.order_id, "status": "PLACED",
            "placedAt": f"{order.placed.isoformat()}T{rng.randint(6, 22):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}-05:00",
            "customer": {"name": cust.name, "email": cust.email},
            "shippingAddress": {"line1": cust.street, "city": cust.town, "region": cust.region,
                                "postalCode": cust.postcode, "country": "US"},
            "lines": [{"sku": it.sku, "title": it.name, "variant": it.variant or None,
                       "quantity": it.qty, "unitPrice": money(it.unit), "lineTotal": money(it.line)}
                      for it in order.items],
            "totals": totals, "payment": {"method": order.payment}}},
        "catalog": {"recommendations": products[: len(products) // 2],
                    "recentlyViewed": products[len(products) // 2:]},
    }
    blob = json.dumps(state, separators=(",", ":"))
    head = f'<link rel="modulepreload" href="{theme.cdn}/static/js/{theme.chunks[3]}">\n'
    return (
        _head(theme, rng, f"Order placed - {theme.spec.name}", head)
        + f"""<body>
<noscript>You need to enable JavaScript to run this app.</noscript>
<div id="root"><div class="{theme.c("skeleton")}" aria-busy="true"><div class="{theme.c("skeleton-line")}"></div></div></div>
<script>window.__INITIAL_STATE__ = {blob};</script>
"""
        + _tail_scripts(theme, rng, flags=40)
        + "</body>\n</html>\n"
    )


def _email_cell(text: str, *, size: int = 14, color: str = "#333333", align: str = "left",
                bold: bool = False, pad: str = "4px 0") -> str:
    weight = "bold" if bold else "normal"
    return (f'<td align="{align}" style="font-family:Helvetica,Arial,sans-serif;font-size:{size}px;'
            f'line-height:{size + 6}px;color:{color};font-weight:{weight};padding:{pad};">{text}</td>')


def render_email(theme: Theme, rng: random.Random, order: Order) -> str:
    """(6) An order e-mail saved as a page: nested presentation tables and inline styles."""
    spec, cust, accent = theme.spec, order.customer, theme.palette[2]
    table = '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"'
    items = "\n".join(
        f'<tr><td style="padding:12px 0;border-bottom:1px solid #e6e1d8;">{table}><tr>'
        f'<td width="80" valign="top" style="padding-right:12px;">{_image(theme, it, 72)}</td>'
        + _email_cell(f"<b>{esc(it.name)}</b><br>{esc(it.variant)}<br>Qty: {it.qty}")
        + _email_cell(theme.m(it.line), align="right")
        + "</tr></table></td></tr>"
        for it in order.items
    )
    summary = "\n".join(
        "<tr>" + _email_cell(label, bold=key == "total")
        + _email_cell(value, align="right", bold=key == "total") + "</tr>"
        for key, label, value in _summary_lines(theme, order, "email")
    )
    picks = []
    for _ in range(3 * rng.randint(2, 4)):
        name, _variant, price = _product(rng, CATALOGS[spec.catalog])
        url = f"https://www.{spec.domain}/p/{_slug(name)}?utm_source=email&amp;utm_content=reco"
        picks.append(
            f'<td class="stack" width="33%" valign="top" style="padding:8px;"><a href="{url}">'
            f'<img src="{theme.cdn}/products/{_slug(name)}_320x.jpg" width="160" height="160" '
            f'alt="{esc(name)}" style="display:block;width:160px;border:0;"></a>{table}><tr>'
            + _email_cell(f'<a href="{url}" style="color:#555555;text-decoration:none;">{esc(name)}</a>',
                          size=13, color="#555555")
            + "</tr><tr>" + _email_cell(theme.m(price), size=13, bold=True) + "</tr></table></td>")
    picks_rows = "\n".join("<tr>" + "".join(picks[i:i + 3]) + "</tr>" for i in range(0, len(picks), 3))
    service = "".join(
        "<td class=\"stack\" width=\"33%\" align=\"center\" valign=\"top\" style=\"padding:12px;\">"
        f'{_svg(theme.icons[icon])}{table}><tr>'
        + _email_cell(f"<b>{head}</b><br>{text}", size=12, color="#555555", align="center")
        + "</tr></table></td>"
        for icon, head, text in (("cart", "Free returns", "Within 30 days, no questions asked."),
                                 ("star", "Lifetime repairs", "We patch, re-stitch and re-wax."),
                                 ("user", "Talk to us", "Mon-Sat 8am-8pm, 1-800-555-0142"))
    )
    social = "".join(f'<a href="https://social.example/{_slug(spec.name)}" style="display:inline-block;'
                     f'padding:0 6px;">{_svg(theme.icons[k], k)}</a>' for k in ("social1", "social2"))
    legal = " ".join(rng.sample((
        "You are receiving this e-mail because you placed an order with us.",
        "Prices and availability are subject to change.",
        "Returns are accepted within 30 days of delivery in original condition.",
        "Please do not reply to this message; this mailbox is not monitored.",
        "Gift cards are non-refundable and cannot be exchanged for cash.",
    ), 4))
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="x-apple-disable-message-reformatting">
<title>Your {esc(spec.name)} order {order.order_id}</title>
<!--[if mso]><xml><o:OfficeDocumentSettings><o:PixelsPerInch>96</o:PixelsPerInch></o:OfficeDocumentSettings></xml><![endif]-->
<style type="text/css">
body,table,td,a{{-webkit-text-size-adjust:100%;-ms-text-size-adjust:100%}}table,td{{mso-table-lspace:0pt;mso-table-rspace:0pt}}img{{-ms-interpolation-mode:bicubic;border:0;outline:none;text-decoration:none}}
@media screen and (max-width:600px){{.container{{width:100%!important}}.stack{{display:block!important;width:100%!important}}.pad{{padding:16px!important}}}}
</style>
</head>
<body style="margin:0;padding:0;background-color:#f4f1ec;">
<div style="display:none;font-size:1px;color:#f4f1ec;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;">We&#39;re packing your order now, {esc(cust.first)}. Here is your receipt.&#8204;&nbsp;&#8204;&nbsp;&#8204;&nbsp;</div>
{table} style="background-color:#f4f1ec;"><tr><td align="center" style="padding:24px 8px;">
<!--[if mso]><table role="presentation" width="600" align="center"><tr><td><![endif]-->
<table role="presentation" class="container" width="600" cellpadding="0" cellspacing="0" border="0" style="width:600px;background-color:#ffffff;">
<tr><td align="center" style="padding:24px;background-color:{theme.palette[0]};"><a href="https://www.{spec.domain}/?utm_source=email&amp;utm_medium=transactional&amp;utm_campaign=order_confirmation" style="color:#ffffff;text-decoration:none;">{_svg(theme.icons["logo"], esc(spec.name), 40)}<span style="font-family:Georgia,serif;font-size:22px;color:#ffffff;">{esc(spec.name)}</span></a></td></tr>
<tr><td class="pad" style="padding:32px 40px 8px;"><h1 style="margin:0;font-family:Georgia,serif;font-size:26px;color:#222222;">We&#39;ve got your order, {esc(cust.first)}!</h1></td></tr>
<tr><td class="pad" style="padding:8px 40px;">{table}><tr>
<td class="stack" width="50%" valign="top">{table}><tr>{_email_cell("Order number", size=12, color="#777777")}</tr><tr>{_email_cell(order.order_id, size=16, bold=True)}</tr></table></td>
<td class="stack" width="50%" valign="top">{table}><tr>{_email_cell("Placed on", size=12, color="#777777")}</tr><tr>{_email_cell(theme.d(order.placed), size=16, bold=True)}</tr></table></td>
</tr></table></td></tr>
<tr><td class="pad" style="padding:8px 40px;">{table}>
{items}
</table></td></tr>
<tr><td class="pad" style="padding:8px 40px 24px;">{table}>
{summary}
</table></td></tr>
<tr><td class="pad" style="padding:16px 40px;background-color:#faf8f4;">{table}><tr>{_email_cell("<b>Shipping to</b><br>" + _address(cust), size=13)}{_email_cell("<b>Payment</b><br>" + esc(order.payment), size=13)}</tr></table></td></tr>
<tr><td align="center" style="padding:24px 40px;"><a href="https://www.{spec.domain}/account/orders/{order.order_id}?utm_source=email" style="background-color:{accent};border-radius:4px;color:#ffffff;display:inline-block;font-family:Helvetica,Arial,sans-serif;font-size:15px;padding:12px 28px;text-decoration:none;">Track your order</a></td></tr>
<tr><td class="pad" style="padding:8px 32px;"><h2 style="font-family:Georgia,serif;font-size:18px;color:#222222;">Picked for your next trip</h2>{table}>
{picks_rows}
</table></td></tr>
<tr><td class="pad" style="padding:8px 32px;background-color:#faf8f4;">{table}><tr>{service}</tr></table></td></tr>
<tr><td align="center" style="padding:16px 40px;">{social}</td></tr>
<tr><td style="padding:16px 40px 32px;font-family:Helvetica,Arial,sans-serif;font-size:11px;line-height:16px;color:#999999;">{legal}<br>&copy; {order.placed.year} {esc(spec.name)} &middot; <a href="https://www.{spec.domain}/email/unsubscribe?u={_hex(rng, 24)}" style="color:#999999;">Unsubscribe</a> &middot; <a href="https://www.{spec.domain}/privacy" style="color:#999999;">Privacy</a></td></tr>
</table>
<!--[if mso]></td></tr></table><![endif]-->
</td></tr></table>
<img src="https://mail.{spec.domain}/o/{_hex(rng, 40)}.gif" width="1" height="1" alt="" style="display:block;border:0;">
</body>
</html>
"""


def render_decoys(theme: Theme, rng: random.Random, order: Order) -> str:
    """(7) The real values surrounded by look-alikes: a mini cart with its own subtotal, a
    loyalty member id, previous orders with ids and totals, promo thresholds, upsell and
    recommendation prices."""
    c, cust, cat = theme.c, order.customer, CATALOGS[theme.spec.catalog]
    saved = [_product(rng, cat)[2] for _ in range(rng.randint(1, 3))]
    member = f"{rng.randint(5_000_000, 5_999_999)}"
    utility = (f'<span class="{c("loyalty")}">Pinecrest Rewards &middot; Member #{member} &middot; '
               f'{rng.randint(100, 9000):,} pts</span><a class="{c("mini-cart")}" href="/cart">'
               f"Cart ({len(saved)}) <span>Cart subtotal: {theme.m(sum(saved))}</span></a>")
    history = "\n".join(
        f'<li class="{c("history-item")}"><a href="/orders/{prev}">Order #{prev}</a>'
        f"<span>{fmt_date(order.placed - dt.timedelta(days=7 * k + rng.randint(1, 6)), 'us_short')}"
        f"</span><span>{theme.m(_price(rng, 20, 900))}</span><span>Delivered</span></li>"
        for k, prev in enumerate(sorted((int(order.order_id) - rng.randint(50, 9000)
                                         for _ in range(rng.randint(2, 5))), reverse=True), 1)
    )
    lines = "\n".join(
        _div_line(theme, it, 80, f'<div class="{c("line-variant")}">'
                                 f'{esc(it.variant) + " &middot; " if it.variant else ""}'
                                 f"Qty {it.qty} &middot; {theme.m(it.unit)} each</div>"
                                 f'<div class="{c("upsell")}">Add 2-year protection for '
                                 f"{theme.m(_price(rng, 9, 79))}</div>")
        for it in order.items
    )
    summary = _div_summary(theme, order, "decoys", modifiers=True)
    savings = (f'<p class="{c("savings")}">You saved {theme.m(order.discount)} on this order!</p>'
               if order.discount else "")
    main = f"""<div class="{c("promo")}">Free shipping on orders over {theme.m(theme.spec.free_shipping_over)} &middot; Members earn 2x points this week</div>
<div class="{c("layout")}">
<aside class="{c("sidebar")}"><h2>Your recent orders</h2><ul class="{c("history")}">
{history}
</ul><div class="{c("promo")}">Spend {theme.m(_price(rng, 20, 60))} more to reach Gold status</div></aside>
<section class="{c("confirmation")}">
<h1 class="{c("confirm-title")}">Thank you! Your order <span class="{c("order-number")}">#{order.order_id}</span> has been placed.</h1>
<p>Hi {esc(cust.first)}, a confirmation was sent to {esc(cust.email)}. Placed on {theme.d(order.placed)}.</p>
<div class="{c("lines")}">
{lines}
</div>
<div class="{c("order-summary")}">
{summary}
</div>
{savings}
</section>
</div>
{_recommendations(theme, rng, rng.randint(3, 6), "Customers also bought")}"""
    return _document(theme, rng, f"Order #{order.order_id} confirmed | {theme.spec.name}", main,
                     utility_extra=utility, recs=rng.randint(6, 12))


def render_german_grid(theme: Theme, rng: random.Random, order: Order) -> str:
    """(8) A German shop on a CSS-grid framework: ``1.234,50 €``, German labels, VAT included."""
    cust = order.customer
    items = "\n".join(
        f'<li class="list-group-item d-flex align-items-center">{_image(theme, it, 64)}'
        f'<div class="flex-grow-1 ms-3">{esc(it.name)}<small class="text-muted d-block">'
        f"{esc(it.variant)} &middot; Art.-Nr. {it.sku}</small></div>"
        f'<span class="me-3">{it.qty}&nbsp;&times;</span><span class="text-end">{theme.m(it.unit)}</span></li>'
        for it in order.items
    )
    rows = "\n".join(
        f'<div class="row g-0 mb-1{" fw-bold border-top pt-2" if key == "total" else ""}">'
        f'<div class="col-7">{label}</div><div class="col-5 text-end">{value}</div></div>'
        for key, label, value in _summary_lines(theme, order, "german_grid")
    )
    main = f"""<div class="container my-4"><div class="row">
<div class="col-lg-8">
<div class="alert alert-success" role="status">Vielen Dank für Ihre Bestellung, {esc(cust.first)} {esc(cust.last)}!</div>
<div class="card mb-3"><div class="card-header">Bestellübersicht</div><div class="card-body">
<p class="mb-1"><strong>Bestellnummer:</strong> {order.order_id}</p>
<p class="mb-1"><strong>Bestelldatum:</strong> {theme.d(order.placed)}</p>
<p class="mb-1"><strong>Zahlungsart:</strong> {rng.choice(("PayPal", "Kreditkarte", "Rechnung", "Sofortüberweisung"))}</p>
<p class="mb-0"><strong>Lieferadresse:</strong><br>{_address(cust)}</p>
</div></div>
<div class="card"><ul class="list-group list-group-flush">
{items}
</ul></div>
</div>
<div class="col-lg-4"><div class="card"><div class="card-body">
<h2 class="h5">Summe</h2>
{rows}
<div class="small text-muted mt-2">inkl. 19&nbsp;% MwSt.: {theme.m(order.tax or Decimal(0))}</div>
</div></div>
<p class="small mt-3">Sie erhalten in Kürze eine Bestätigung an {esc(cust.email)}. Widerrufsrecht: 14 Tage ab Erhalt der Ware.</p>
</div>
</div></div>"""
    return _document(theme, rng, f"Bestellbestätigung {order.order_id} – {theme.spec.name}", main)


def _microdata_item(theme: Theme, item: Item) -> str:
    """One schema.org ``OrderItem`` (itemscope) with its nested ``Product``."""
    c = theme.c
    product = (f'<span itemprop="orderedItem" itemscope itemtype="https://schema.org/Product">'
               f'<span itemprop="name">{esc(item.name)}</span>'
               f'<meta itemprop="sku" content="{item.sku}"></span>')
    return (f'<li class="{c("line")}" itemprop="orderedItem" itemscope '
            f'itemtype="https://schema.org/OrderItem"><span itemprop="orderQuantity">{item.qty}'
            f'</span> &times; {product} <span class="{c("line-variant")}">{esc(item.variant)}'
            f'</span><span class="{c("line-price")}">{theme.m(item.line)}</span></li>')


def render_microdata(theme: Theme, rng: random.Random, order: Order) -> str:
    """(9) schema.org microdata (``itemprop``) on a British shop in pounds."""
    c, cust = theme.c, order.customer
    lines = "\n".join(_microdata_item(theme, it) for it in order.items)
    amounts = {"subtotal": order.subtotal, "discount": -order.discount,
               "shipping": order.shipping or Decimal(0), "total": order.total}
    rows = "\n".join(
        f'<tr class="{c("summary-row")}" itemprop="priceSpecification" itemscope '
        f'itemtype="https://schema.org/UnitPriceSpecification"><th scope="row" itemprop="name">'
        f'{label}</th><td><meta itemprop="priceCurrency" content="GBP"><span itemprop="price" '
        f'content="{fmt_money(amounts[key], "plain")}">{value}</span></td></tr>'
        for key, label, value in _summary_lines(theme, order, "microdata")
    )
    main = f"""<article class="{c("confirmation")}" itemscope itemtype="https://schema.org/Order">
<link itemprop="orderStatus" href="https://schema.org/OrderProcessing">
<div itemprop="seller" itemscope itemtype="https://schema.org/Organization"><meta itemprop="name" content="{esc(theme.spec.name)}"></div>
<h1>Thanks for your order, {esc(cust.first)}</h1>
<p>Order reference <strong itemprop="orderNumber">{order.order_id}</strong> &middot; placed <time itemprop="orderDate" datetime="{order.placed.isoformat()}">{theme.d(order.placed)}</time></p>
<div itemprop="customer" itemscope itemtype="https://schema.org/Person"><meta itemprop="name" content="{esc(cust.name)}"></div>
<ul class="{c("lines")}" role="list">
{lines}
</ul>
<table class="{c("totals")}">
{rows}
</table>
<p class="{c("notice")}">Prices include VAT{" of " + theme.m(order.tax) if order.tax else ""}. Delivery to: {esc(", ".join(cust.lines()[1:3]))}.</p>
</article>"""
    return _document(theme, rng, f"Thank you - {theme.spec.name}", main)


# --------------------------------------------------------------------------------------------
# The stores
# --------------------------------------------------------------------------------------------


def _alnum_id(prefix: str, n: int) -> Callable[[random.Random, int, dt.date], str]:
    return lambda rng, _seq, _day: prefix + _token(rng, n, _ALNUM)


STORES: tuple[StoreSpec, ...] = (
    StoreSpec("maple_hardware", "Maple Street Hardware", "maplestreethardware.example",
              render_table, 24, "hardware", lambda _r, seq, _d: f"{100000 + seq}",
              date_style="us_num", sku_prefix="MH", extra_fields=True, label_error_page=7),
    StoreSpec("nimbus_apparel", "Nimbus & Thread", "nimbusthread.example", render_divsoup, 20,
              "apparel", lambda rng, _s, _d: f"W{rng.randrange(10**8, 10**9)}",
              date_style="us_short", class_style="hashed", sku_prefix="NT"),
    StoreSpec("tidewater_books", "Tidewater Books & Maps", "tidewaterbooks.example",
              render_deflist, 18, "books", lambda _r, seq, day: f"ORD-{day.year}-{seq // 10:04d}",
              date_style="en_long", sku_prefix="TB", digital_share=0.2, tax_share=0.4,
              free_shipping_over=Decimal(40)),
    StoreSpec("brightleaf_garden", "Brightleaf Garden Supply", "brightleafgarden.example",
              render_jsonld, 16, "garden", _alnum_id("BLG-", 7), sku_prefix="BG"),
    StoreSpec("copperkettle_kitchen", "Copper Kettle Kitchenware", "copperkettle.example",
              render_state_blob, 14, "kitchen",
              lambda rng, _s, _d: f"{rng.randint(111, 114)}-{rng.randrange(10**6, 10**7)}-"
                                  f"{rng.randrange(10**6, 10**7)}",
              sku_prefix="CK", extra_fields=True, tax_share=1.0, free_shipping_over=Decimal(99)),
    StoreSpec("harbor_lane_outfitters", "Harbor Lane Outfitters", "harborlane.example",
              render_email, 22, "outdoor", lambda _r, seq, _d: f"HL-{200000 + seq}",
              sku_prefix="HL", extra_fields=True),
    StoreSpec("pinecrest_electronics", "Pinecrest Electronics", "pinecrest-electronics.example",
              render_decoys, 20, "electronics", lambda _r, seq, _d: f"{5_000_000 + seq * 3}",
              date_style="us_weekday", sku_prefix="PC", label_money_displayed=True,
              free_shipping_over=Decimal(35)),
    StoreSpec("Joe's Shop/EU", "Joe's Shop", "joes-shop.example", render_german_grid, 18,
              "haushalt", lambda _r, seq, day: f"DE{day:%y}-{seq:07d}", money="eu",
              date_style="de_num", region="de", lang="de", class_style="plain", sku_prefix="JS",
              extra_fields=True, free_shipping_over=Decimal(120)),
    StoreSpec("sundial_crafts", "Sundial Craft Co.", "sundialcraft.example", render_microdata, 15,
              "crafts", lambda _r, seq, _d: f"SC{seq:06d}", money="uk", date_style="uk_short",
              region="uk", sku_prefix="SC", free_shipping_over=Decimal(30)),
    StoreSpec("lonely_llama_tea", "Lonely Llama Tea Co.", "lonelyllama.example", render_table, 1,
              "tea", lambda _r, seq, _d: f"T{seq:05d}", date_style="us_num", sku_prefix="LL"),
)


# --------------------------------------------------------------------------------------------
# Rows and CSV
# --------------------------------------------------------------------------------------------


def _labels(spec: StoreSpec, order: Order) -> dict[str, str]:
    money = "us" if spec.label_money_displayed else "plain"
    labels = {"ORDER_ID": order.order_id,
              "SUBTOTAL": fmt_money(order.subtotal, money) if order.show_subtotal else "",
              "TOTAL": "", "ORDER_DATE": ""}
    if spec.extra_fields:
        labels["TOTAL"] = fmt_money(order.total, money)
        labels["ORDER_DATE"] = order.placed.isoformat()
    return labels


def _mislabel(order_id: str, page: str) -> str:
    """A typo'd id (last two characters swapped, or bumped) that does not occur in ``page``."""
    wrong = order_id[:-2] + order_id[-1] + order_id[-2]
    bump = 1
    while wrong == order_id or is_present(wrong, page, "id"):
        wrong = order_id[:-1] + str((int(order_id[-1]) + bump) % 10)
        bump += 1
    return wrong


def _store_rows(spec: StoreSpec, seed: int) -> Iterator[tuple[str, ...]]:
    theme = _make_theme(spec, seed)
    rng = random.Random(f"autoheal-demo:{seed}:{spec.store_id}")
    day = dt.date(2023, 1, 2) + dt.timedelta(days=rng.randrange(300))
    seq = rng.randrange(1000, 60000)
    digital = set(rng.sample(range(spec.pages), round(spec.pages * spec.digital_share)))
    for index in range(spec.pages):
        day += dt.timedelta(days=rng.randint(0, 12))
        seq += rng.randint(3, 700)
        order = _make_order(rng, spec, seq, day, digital=index in digital)
        page = spec.family(theme, rng, order)
        labels = _labels(spec, order)
        if index == spec.label_error_page:
            labels["ORDER_ID"] = _mislabel(order.order_id, page)
        yield (spec.store_id, page, *(labels[col.removeprefix("GROUND_TRUTH_")]
                                      for col in COLUMNS[2:]))


def generate_rows(seed: int = DEFAULT_SEED) -> Iterator[tuple[str, ...]]:
    """All data rows (in COLUMNS order), store after store."""
    for spec in STORES:
        yield from _store_rows(spec, seed)


def render_csv(seed: int = DEFAULT_SEED) -> str:
    """The whole CSV text: header and rows, ``\\n`` line ends, minimal quoting."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    writer.writerows(generate_rows(seed))
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# New, unlabelled pages (for applying the healed scripts; see autoheal.apply)
# --------------------------------------------------------------------------------------------

NEW_PAGES_OUT = "store_data/new_pages.csv"
NEW_PAGES_PER_STORE = 6
# The store whose template changed since its labelled pages were saved: a new build renamed
# every class and reworded the subtotal's caption. The health check must flag it.
CHANGED_STORE = "maple_hardware"
CHANGED_KINDS = ("rename_classes", "relabel_field")
# A store the training data never had (reported as unknown, never skipped silently).
NEW_STORE = replace(STORES[-2], store_id="ravenwood_ceramics", name="Ravenwood Ceramics",
                    domain="ravenwoodceramics.example", sku_prefix="RC")


def new_store_pages(spec: StoreSpec, seed: int = DEFAULT_SEED, count: int = NEW_PAGES_PER_STORE,
                    batch: str = "new") -> list[tuple[str, dict[str, str]]]:
    """``count`` new orders of ``spec`` as (page html, labels), after its labelled pages.

    Same theme as the store's labelled pages (same boilerplate, class names, stylesheet), a
    separate order stream per ``batch``, so benchmarks can draw as many batches as they need."""
    theme = _make_theme(spec, seed)
    rng = random.Random(f"autoheal-demo-{batch}:{seed}:{spec.store_id}")
    day = dt.date(2024, 3, 1) + dt.timedelta(days=rng.randrange(60))
    seq = rng.randrange(60000, 90000)
    out = []
    for _ in range(count):
        day += dt.timedelta(days=rng.randint(0, 5))
        seq += rng.randint(3, 700)
        order = _make_order(rng, spec, seq, day, digital=rng.random() < spec.digital_share)
        out.append((spec.family(theme, rng, order), _labels(spec, order)))
    return out


def generate_new_rows(seed: int = DEFAULT_SEED) -> Iterator[tuple[str, str]]:
    """(STORE_ID, RAW_DOM) rows of the demo's new pages: every store, the changed one changed."""
    from .drift import change_page
    from .page import Page
    from .samples import field_types

    for spec in (*STORES, NEW_STORE):
        count = 2 if spec.pages < 2 or spec is NEW_STORE else NEW_PAGES_PER_STORE
        pages = new_store_pages(spec, seed, count)
        types = field_types([Page("", "", labels) for _html, labels in pages],
                            [c.removeprefix("GROUND_TRUTH_") for c in COLUMNS[2:]])
        for page, labels in pages:
            if spec.store_id == CHANGED_STORE:
                for kind in CHANGED_KINDS:
                    page = change_page(page, kind, truth=labels, types=types, field="SUBTOTAL")
            yield spec.store_id, page


def render_new_pages_csv(seed: int = DEFAULT_SEED) -> str:
    """The demo's new-pages CSV text (``STORE_ID, RAW_DOM``, no labels)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS[:2])
    writer.writerows(generate_new_rows(seed))
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="autoheal demo",
        description="Write the deterministic demo CSV of order-confirmation pages.")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output CSV (default: {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"generator seed (default: {DEFAULT_SEED}, the committed file)")
    parser.add_argument("--new-pages", metavar="CSV",
                        help=f"write the unlabelled new pages instead (for apply_data; the demo's "
                             f"is {NEW_PAGES_OUT}), with one store whose template changed")
    args = parser.parse_args(argv)
    if args.new_pages:
        text = render_new_pages_csv(args.seed)
        atomic_write_text(Path(args.new_pages), text)
        print(f"wrote new pages to {args.new_pages} ({len(text.encode('utf-8')):,} bytes, "
              f"seed {args.seed}; template changed: {CHANGED_STORE})", file=sys.stderr)
        return 0
    text = render_csv(args.seed)
    atomic_write_text(Path(args.out), text)
    print(f"wrote {sum(s.pages for s in STORES)} pages of {len(STORES)} stores to {args.out} "
          f"({len(text.encode('utf-8')):,} bytes, seed {args.seed})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
