"""A scripted Model for tests of the heal loop (provider ``fake``).

``FakeModel(replies=[...])`` answers each ``generate`` with the next item of its queue and
records every request in ``calls``:

- a ``str``: treated as the raw reply text of a normal stop (status from ``reply.build_reply``:
  ``ok`` with the extracted script, ``no_code``, or ``refused`` for refusal wording);
- a ``Reply``: returned as is;
- an ``Exception`` instance: raised (to test callers' handling of ``ModelConfigError``);
- a callable ``f(request) -> str | Reply``: called.

When the queue is empty it answers ``default`` (same kinds) or, with no default, an error reply
``"fake model: reply queue exhausted"``. Token counts are ``len(text) // 4`` and the cost uses
the entry's prices, so accounting code can be tested too. Registry entries with
``provider: fake`` accept an optional ``replies`` list of strings.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from .base import GenerationRequest, RawReply, Reply, cost_usd, error_reply
from .reply import build_reply

__all__ = ["FakeModel"]

Scripted = str | Reply | BaseException | Callable[[GenerationRequest], Any]


class FakeModel:
    provider = "fake"

    def __init__(self, replies: Iterable[Scripted] = (), *, name: str = "fake",
                 default: Scripted | None = None, entry: dict | None = None) -> None:
        self.name = name
        self.entry = dict(entry or {})
        self.queue: deque[Scripted] = deque(replies)
        self.default = default
        self.calls: list[GenerationRequest] = []

    def push(self, *replies: Scripted) -> FakeModel:
        self.queue.extend(replies)
        return self

    @property
    def call_count(self) -> int:
        return len(self.calls)

    def cache_material(self, request: GenerationRequest) -> dict:
        return {"provider": "fake", "model": self.name, "params": {},
                "system": request.system, "prompt": request.prompt}

    def generate(self, request: GenerationRequest) -> Reply:
        self.calls.append(request)
        item = self.queue.popleft() if self.queue else self.default
        if item is None:
            return error_reply("fake model: reply queue exhausted", attempts=1)
        if isinstance(item, BaseException):
            raise item
        if callable(item) and not isinstance(item, Reply):
            item = item(request)
        if isinstance(item, Reply):
            return item
        text = str(item)
        tin, tout = len(request.system + request.prompt) // 4, len(text) // 4
        reply = build_reply(RawReply(text, "stop", "stop"))
        return replace(reply, input_tokens=tin, output_tokens=tout,
                       cost_usd=cost_usd(tin, tout, self.entry), attempts=1)
