"""Turning a model's raw answer into a script, or into a recorded failure.

Code extraction (``extract_code``)
----------------------------------
Fenced blocks are found with a small line scanner (not one big regex), CommonMark-style:
an opening fence of three or more backticks or tildes, indented at most three spaces, with an
optional info string; the block ends at a fence of the same character at least as long. A block
left open at the end of the reply runs to the end (models sometimes forget the closing fence;
a reply cut at the token limit is caught by its stop reason, not here).

Blocks tagged ``python``/``py``/``python3`` or untagged are candidates; other languages (json,
html, bash...) are ignored. Among the candidates, those defining ``def extract`` win; among
those (or among all candidates when none does) the longest is taken, the later one on a tie.
A reply with no fence at all that parses as Python and defines ``extract`` is taken whole
(local models sometimes answer with bare code).

Status (``build_reply``)
------------------------
In order: a vendor refusal stop reason -> ``refused``; a reply cut at the token limit ->
``truncated``; no code -> ``refused`` when the text reads like a refusal, else ``no_code``;
otherwise ``ok`` with the script. ``script`` is set only for ``ok``.
"""

from __future__ import annotations

import ast
import re

from .base import RawReply, Reply, one_line

__all__ = ["build_reply", "extract_code", "fenced_blocks", "looks_like_refusal"]

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)[^`]*$")
_PY_TAGS = {"", "python", "py", "python3", "py3"}
_DEFINES_EXTRACT = re.compile(r"^\s*(?:async\s+)?def\s+extract\s*\(", re.MULTILINE)
_REFUSAL = re.compile(
    r"\b(?:I\s*(?:'m| am)\s+(?:sorry|unable|not able)|I\s+(?:can(?:no|')t|cannot|won't|will not|"
    r"must decline|am not comfortable)|(?:can(?:no|')t|cannot|unable to)\s+"
    r"(?:help|assist|comply|provide|do that|fulfil+))",
    re.IGNORECASE,
)


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """``(language tag, code)`` for every fenced block, in order."""
    blocks: list[tuple[str, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, tag = len(m.group(1)), m.group(2), m.group(3).lower()
        body: list[str] = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if (stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}
                    and len(lines[i]) - len(lines[i].lstrip(" ")) <= 3):
                break
            line = lines[i]
            body.append(line[min(indent, len(line) - len(line.lstrip(" "))):])
            i += 1
        blocks.append((tag.lstrip("{.").rstrip("}"), "\n".join(body)))
        i += 1
    return blocks


def _defines_extract(code: str) -> bool:
    return bool(_DEFINES_EXTRACT.search(code))


def _is_python_with_extract(text: str) -> bool:
    if not _defines_extract(text):
        return False
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def extract_code(text: str) -> str | None:
    """The script in a reply, or None (see the module docstring for the rules)."""
    if not text or not text.strip():
        return None
    candidates = [code for tag, code in fenced_blocks(text) if tag in _PY_TAGS and code.strip()]
    if not candidates:
        if "```" not in text and "~~~" not in text and _is_python_with_extract(text):
            return text.strip("\n") + "\n"
        return None
    pool = [c for c in candidates if _defines_extract(c)] or candidates
    best = max(reversed(range(len(pool))), key=lambda i: len(pool[i].strip()))
    return pool[best].strip("\n").rstrip() + "\n"


def looks_like_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text or ""))


def build_reply(raw: RawReply, *, max_output_tokens: int | None = None) -> Reply:
    """Status, script and reason for a raw vendor answer (tokens/cost are the caller's)."""
    text = raw.text or ""
    vendor = f" (stop reason {raw.vendor_stop})" if raw.vendor_stop else ""
    if raw.stop == "refusal":
        detail = raw.refusal_detail or text
        said = f": {one_line(detail, 160)}" if detail.strip() else ""
        return Reply(text, None, "refused", f"model refused{vendor}{said}")
    if raw.stop == "max_tokens":
        limit = f" of {max_output_tokens}" if max_output_tokens else ""
        return Reply(text, None, "truncated",
                     f"reply truncated at the output token limit{limit}{vendor}")
    script = extract_code(text)
    if script is None:
        if looks_like_refusal(text):
            return Reply(text, None, "refused", f"model refused: {one_line(text, 160)}")
        if not text.strip():
            return Reply(text, None, "no_code", f"empty reply{vendor}")
        return Reply(text, None, "no_code",
                     "reply contains no Python code block defining extract(html)")
    return Reply(text, script, "ok", None)
