"""Code extraction from model replies and the status of a reply (autoheal.models.reply)."""

from __future__ import annotations

import pytest

from autoheal.models.base import RawReply
from autoheal.models.reply import build_reply, extract_code, fenced_blocks, looks_like_refusal

EXTRACT = "def extract(html):\n    return {'ORDER_ID': None}\n"


def fence(code: str, tag: str = "python", marker: str = "```") -> str:
    return f"{marker}{tag}\n{code.rstrip()}\n{marker}"


@pytest.mark.parametrize("tag", ["python", "py", "Python", "python3", ""])
def test_single_block_with_any_python_tag(tag: str) -> None:
    text = f"Here you go:\n\n{fence(EXTRACT, tag)}\n\nThis handles missing values."
    assert extract_code(text) == EXTRACT


def test_tilde_fence_and_indented_fence() -> None:
    assert extract_code(fence(EXTRACT, "python", "~~~")) == EXTRACT
    indented = "  ```python\n  def extract(html):\n      return {}\n  ```"
    assert extract_code(indented) == "def extract(html):\n    return {}\n"


def test_block_defining_extract_beats_a_longer_helper_block() -> None:
    helper = "import re\n" + "\n".join(f"X{i} = re.compile(r'{i}')" for i in range(20))
    text = f"First some helpers:\n{fence(helper)}\nThen the function:\n{fence(EXTRACT)}\n"
    assert extract_code(text) == EXTRACT


def test_longest_extract_block_wins_and_other_languages_are_ignored() -> None:
    stub = "def extract(html):\n    ...\n"
    full = EXTRACT + "\n\ndef _helper(x):\n    return x.strip()\n"
    text = "\n".join([fence('{"ORDER_ID": "1"}', "json"), fence(stub), fence(full),
                      fence("python script.py page.html", "bash")])
    assert extract_code(text) == full.rstrip() + "\n"


def test_longest_python_block_without_extract() -> None:
    short, long = "x = 1\n", "import re\n\nPATTERN = re.compile('a')\n"
    assert extract_code(f"{fence(short)}\n{fence(long)}") == long


def test_longer_fence_may_contain_shorter_fences() -> None:
    code = 'def extract(html):\n    """Example:\n    ```\n    x\n    ```\n    """\n    return {}\n'
    text = f"````python\n{code}````\n"
    assert extract_code(text) == code


def test_unclosed_fence_runs_to_the_end() -> None:
    assert extract_code("Sure:\n```python\n" + EXTRACT) == EXTRACT


def test_bare_code_without_fences() -> None:
    assert extract_code(EXTRACT) == EXTRACT
    assert extract_code("def extract(html):\n    return {  # broken") is None


@pytest.mark.parametrize("text", ["", "   ", "Use lxml.", fence("<div>", "html")])
def test_no_code(text: str) -> None:
    assert extract_code(text) is None


def test_fenced_blocks_reports_tags_in_order() -> None:
    text = f"{fence('a = 1', 'py')}\ntext\n{fence('{}', 'json')}\n{fence('b = 2', '{.python}')}"
    assert fenced_blocks(text) == [("py", "a = 1"), ("json", "{}"), ("python", "b = 2")]


@pytest.mark.parametrize("text", [
    "I'm sorry, but I can't help with that.",
    "I cannot assist with scraping this website.",
    "I won't write code for that.",
    "Unfortunately I am unable to comply.",
])
def test_refusal_wording(text: str) -> None:
    assert looks_like_refusal(text)
    reply = build_reply(RawReply(text, "stop", "end_turn"))
    assert reply.status == "refused" and reply.script is None
    assert reply.reason.startswith("model refused:")


def test_refusal_wording_with_code_is_ok() -> None:
    text = "I can't guarantee this works for every page, but:\n" + fence(EXTRACT)
    reply = build_reply(RawReply(text, "stop", "stop"))
    assert reply.status == "ok" and reply.script == EXTRACT


def test_vendor_refusal_wins_over_code() -> None:
    reply = build_reply(RawReply(fence(EXTRACT), "refusal", "refusal"))
    assert reply.status == "refused" and reply.script is None
    assert "(stop reason refusal)" in reply.reason


def test_truncated_even_with_a_closed_block() -> None:
    reply = build_reply(RawReply(fence(EXTRACT), "max_tokens", "length"), max_output_tokens=64)
    assert reply.status == "truncated" and reply.script is None
    assert reply.reason == "reply truncated at the output token limit of 64 (stop reason length)"


def test_ok_and_no_code_statuses() -> None:
    ok = build_reply(RawReply(fence(EXTRACT), "stop", "STOP"))
    assert (ok.status, ok.script, ok.reason) == ("ok", EXTRACT, None)
    empty = build_reply(RawReply("", "other", "no candidates"))
    assert empty.status == "no_code" and "empty reply" in empty.reason
    prose = build_reply(RawReply("Parse the table.", "stop", "stop"))
    assert prose.status == "no_code" and "\n" not in prose.reason
