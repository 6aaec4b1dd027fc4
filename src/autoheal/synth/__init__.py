"""The offline synthesizer: wrapper induction from a store's labelled train pages.

``synthesize(pages, fields, types)`` returns the text of a standalone Python script whose
``extract(html)`` reads every field from a page of the same store.  No model is asked; the
script is learned from the examples:

1. **Find the label in each seed page.**  A seed page is a train page with a label for the field.
   The label is searched in all its surface forms (:func:`autoheal.scoring.surface_forms`:
   ``1234.50`` is also ``$1,234.50`` or ``1.234,50``; ISO dates also ``December 21, 2018``) in
   every place a value lives: visible text nodes, attribute values (``content``, ``value``,
   ``data-*``, ``title``, ``href``, ``src`` -- which covers meta tags and microdata), JSON-LD
   objects, and the raw HTML (inline JSON / JavaScript state, odd markup).
2. **Propose locators that would find that spot on another page** (:mod:`.learn`): XPaths by
   id, stable attributes (``itemprop``, ``property``, ``name``, ``data-testid``) and class
   tokens, optionally relative to an anchored ancestor; *label anchors*, i.e. the page's own
   wording before the value ("Subtotal:", "Order #") so values whose position moves with the
   number of items are still found; JSON-LD key paths under an ``@type``; left/right
   delimiters common to all labelled pages; absolute positions only as the last resort.  Each
   locator carries a cost (ids and anchors cheap, positions expensive).
3. **Learn the value transform** that turns the located text into the label: whole text, the
   money token (first or last; canonical ``12.50`` when the labels are plain decimals), the date,
   an ISO-8601 duration in minutes, a cut after a learned prefix / before a learned suffix
   ("Order #"), or the value's character shape.  Values are returned as the page writes them;
   scoring compares amounts and days.
4. **Keep the best on train.**  Every (locator, transform) runs on every train page through the
   very runtime the script embeds (:mod:`.runtime`), is scored with
   :func:`autoheal.scoring.values_match` -- pages without a label count too, so a locator must
   return None there -- and the best one starts the field's chain (ties: lower cost, then the
   text of the locator, so the output is deterministic).  Further locators are appended only
   while they fix train pages the chain still gets wrong; they run only where the earlier ones
   found nothing.  When no locator matches a page the field is None: precision over guessing.
5. **Never hard-code a label**: a candidate whose literals (anchors, XPaths, delimiters,
   prefixes) contain any train label is dropped.

The improvement iteration (``previous_script`` + ``failures``) re-learns with every failing
train page of a field as an extra seed page (iteration 0 seeds from the first few labelled
pages only) and allows a longer fallback chain, so templates that the first seeds did not show
get locators of their own.

The script (:mod:`.codegen`) embeds the parsers of :mod:`autoheal.scoring` and the runtime, a
commented ``LOCATORS`` table, ``extract`` and a ``__main__`` that prints one JSON object per
page file.  It parses each page once with lxml and then runs cheap XPath / regex lookups.
"""

from __future__ import annotations

from autoheal.page import Page
from autoheal.synth import runtime
from autoheal.synth.codegen import render
from autoheal.synth.learn import banned_literals, learn_field

__all__ = ["synthesize", "learn_locators"]

SEED_PAGES = 3  # labelled train pages that propose locators in iteration 0
MAX_CHAIN = 3  # locators per field in iteration 0; +1 per improvement iteration


def learn_locators(
    pages: list[Page],
    fields: list[str],
    types: dict[str, str],
    failures: list[dict] | None = None,
) -> tuple[dict[str, list], dict[str, int]]:
    """Per field the learned chain ``[(Candidate, cumulative train correct), ...]`` and the
    number of train pages it was scored on."""
    docs = [runtime.Doc(p.html) for p in pages]
    banned = banned_literals(pages, fields, types)
    failing: dict[str, set[str]] = {}
    for failure in failures or []:
        failing.setdefault(str(failure.get("field")), set()).add(str(failure.get("page_id")))
    chains, totals = {}, {}
    for field in fields:
        labels = [p.truth.get(field) for p in pages]
        labelled = [i for i, lab in enumerate(labels) if lab]
        seeds = labelled[:SEED_PAGES]
        seeds += [i for i in labelled if pages[i].page_id in failing.get(field, ()) and i not in seeds]
        max_chain = MAX_CHAIN + (1 if field in failing else 0)
        chains[field] = learn_field(
            docs, labels, types.get(field, "text"), field=field, seeds=seeds, banned=banned,
            max_chain=max_chain,
        )
        totals[field] = len(pages)
    return chains, totals


def synthesize(
    pages: list[Page],
    fields: list[str],
    types: dict[str, str],
    previous_script: str | None = None,
    failures: list[dict] | None = None,
) -> str:
    """A standalone extraction script learned from ``pages`` (see the module docstring).

    ``previous_script`` is accepted for the interface; the improvement comes from ``failures``,
    which name the (page, field) pairs the previous script got wrong on these train pages.
    """
    chains, totals = learn_locators(pages, fields, types, failures)
    solved = sum(chain[-1][1] for chain in chains.values() if chain)
    cells = sum(totals.values())
    iteration = "improvement iteration" if failures else "first iteration"
    summary = (
        f"Learned from {len(pages)} train page(s), {iteration}; the chains below reproduce "
        f"{solved} of {cells} train cells (pages without a value count when the field is None)."
    )
    return render(chains, totals, summary)
