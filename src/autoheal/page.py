"""The unit of data every stage passes along: one labelled page of one store."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Page"]


@dataclass(frozen=True)
class Page:
    """One saved page and the values it should yield.

    ``truth`` maps each field name (the ``GROUND_TRUTH_<FIELD>`` suffix, e.g. ``ORDER_ID``) to
    its label, or None where the label is empty (the page is expected to yield no value).
    ``row`` is the 1-based data-row number in the input CSV (header excluded), for messages.
    """

    page_id: str
    html: str
    truth: dict[str, str | None] = field(default_factory=dict)
    row: int = 0

    def to_json(self) -> dict:
        return {"page_id": self.page_id, "row": self.row, "html": self.html, "truth": self.truth}

    @classmethod
    def from_json(cls, data: dict) -> Page:
        return cls(page_id=data["page_id"], html=data["html"], truth=dict(data["truth"]), row=data.get("row", 0))
