"""REANA's pagination envelope (``page``/``size`` query arguments)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """A requested page: ``page`` ≥ 1, ``size`` ≥ 1 or ``None`` (everything)."""

    page: int = 1
    size: int | None = None

    @property
    def from_idx(self) -> int:
        return (self.page - 1) * self.size if self.size else 0

    @property
    def to_idx(self) -> int | None:
        return self.page * self.size if self.size else None

    def slice(self, items: list) -> list:
        """The items of this page out of a complete list."""
        return items[self.from_idx : self.to_idx] if self.size else items

    def envelope(self, items: list, total: int) -> dict:
        """``{items, total, page, has_next, has_prev[, size, from_idx, to_idx, links]}``."""
        body = {"items": items, "total": total, "page": self.page}
        if not self.size:
            body.update(has_next=False, has_prev=False)
            return body
        body.update(
            has_next=self.to_idx < total,
            has_prev=self.from_idx > 0,
            size=self.size,
            from_idx=self.from_idx,
            to_idx=self.to_idx,
            links={
                "prev": {"page": self.page - 1},
                "self": {"page": self.page},
                "next": {"page": self.page + 1},
            },
        )
        return body
