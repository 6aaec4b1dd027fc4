"""Stage 2: prompts for the code generators, built from the templates in ``prompts/``.

Three templates, all rule inputs so an edit reruns exactly the jobs that read them:
``base.md`` (shared context, sent as the system text), ``first.md`` (first inference) and
``improve.md`` (improvement from the previous script and its failures).  Placeholders are
``{{name}}``; everything else in a template is literal, so code and ``$``/``{}`` are safe.

Page content is untrusted.  It is compressed (:mod:`autoheal.compress`) and wrapped in markers
whose tag is a hash of the content, so a page cannot close its own block and pose as
instructions.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .evaluate import describe
from .page import Page
from .scoring import surface_forms

__all__ = ["Templates", "render", "first_prompt", "improve_prompt", "delimit"]

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class Templates:
    base: str
    first: str
    improve: str

    @classmethod
    def load(cls, base: str | Path, first: str | Path, improve: str | Path) -> Templates:
        read = lambda p: Path(p).read_text(encoding="utf-8")  # noqa: E731
        return cls(base=read(base), first=read(first), improve=read(improve))


def render(template: str, **values: object) -> str:
    """Fill ``{{name}}`` placeholders; a missing value is a bug, so it raises KeyError."""
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)


def delimit(kind: str, content: str) -> str:
    """Wrap untrusted content in markers that the content itself cannot forge."""
    tag = hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"<<<{kind} {tag} BEGIN>>>\n{content}\n<<<{kind} {tag} END>>>"


def _field_list(fields: list[str]) -> str:
    return ", ".join(f"`{f}`" for f in fields)


def _field_table(pages: list[Page], fields: list[str], types: dict[str, str]) -> str:
    lines = []
    for f in fields:
        examples = [p.truth.get(f) for p in pages if p.truth.get(f) is not None][:3]
        shown = ", ".join(describe(v) for v in examples) or "no example (absent on every page)"
        lines.append(f"- `{f}`: {types.get(f, 'text')}; e.g. {shown}")
    return "\n".join(lines)


def _keep_forms(page: Page, types: dict[str, str]) -> list[str]:
    forms = []
    for field, value in page.truth.items():
        if value is not None:
            forms += surface_forms(value, types.get(field, "text"))
    return forms


def first_prompt(
    templates: Templates,
    pages: list[Page],
    fields: list[str],
    types: dict[str, str],
    *,
    examples: int = 3,
    page_tokens: int = 8000,
) -> tuple[str, str]:
    """(system, prompt) for iteration 0."""
    from .compress import compress_page

    shown = pages[:examples]
    blocks = []
    for i, page in enumerate(shown, start=1):
        view = compress_page(page.html, budget_tokens=page_tokens, keep=_keep_forms(page, types))
        expected = json.dumps({f: page.truth.get(f) for f in fields}, ensure_ascii=False)
        blocks.append(f"Example {i}:\n{delimit('PAGE', view)}\nExpected output: {expected}")
    system = render(templates.base, field_list=_field_list(fields))
    prompt = render(
        templates.first,
        field_table=_field_table(pages, fields, types),
        example_count=len(shown),
        examples="\n\n".join(blocks),
    )
    return system, prompt


def _failure_block(failure: dict) -> str:
    head = f"- page row {failure['row']}, field `{failure['field']}`: expected {describe(failure['expected'])}"
    if failure["got"] is None and not failure.get("error") and not failure.get("traceback"):
        lines = [f"{head}, got None"]
    else:
        # What the script returned or raised can echo page text: it is data, delimited like a page.
        result = [f"got {describe(failure['got'])}"]
        if failure.get("error"):
            result.append(f"error: {failure['error']}")
        if failure.get("traceback"):
            tb = failure["traceback"].strip().splitlines()[-6:]
            result.append("traceback (last lines):\n" + "\n".join("  " + t for t in tb))
        lines = [f"{head}; the script's result (page data):\n" + delimit("PAGE", "\n".join(result))]
    if failure.get("fragment"):
        lines.append("  page fragment around the expected value:\n" + delimit("PAGE", failure["fragment"]))
    return "\n".join(lines)


def improve_prompt(
    templates: Templates,
    fields: list[str],
    *,
    previous_script: str | None,
    previous_status: str,
    evaluation: dict | None,
    failures: list[dict],
) -> tuple[str, str]:
    """(system, prompt) for iteration n >= 1."""
    system = render(templates.base, field_list=_field_list(fields))
    if evaluation:
        pass_summary = (
            f"{evaluation['pages_passed']}/{evaluation['pages']} pages fully correct "
            f"({evaluation['all_pct']}%)"
        )
        # In field order, not dict order: an evaluation restored from the iteration cache has
        # sorted keys, and the prompt (a cache key) must not depend on where it came from.
        pct = evaluation["field_pct"]
        field_summary = ", ".join(f"{f} {pct[f]}%" for f in [*fields, *sorted(set(pct) - set(fields))] if f in pct)
        train_pages = evaluation["pages"]
    else:
        pass_summary, field_summary, train_pages = "not run (no script)", "-", 0
    prompt = render(
        templates.improve,
        previous_status=previous_status,
        previous_script=(previous_script or "# (no script was produced)").rstrip(),
        train_pages=train_pages,
        pass_summary=pass_summary,
        field_summary=field_summary,
        failures="\n".join(_failure_block(f) for f in failures) or "(none recorded)",
    )
    return system, prompt
