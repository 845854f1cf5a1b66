"""The basket being rung up, as the cashier edits it: plain values, no Textual, no ledger."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..engine import Basket, BasketLine, Quote, QuoteLine


@dataclass(frozen=True, slots=True)
class Draft:
    """What the counter holds before checkout: lines, member, code and points to redeem."""

    lines: tuple[BasketLine, ...] = ()
    member_id: str | None = None
    code: str | None = None
    """A discount code as typed; the ledger checks it when pricing."""
    redeem_points: int = 0

    @property
    def empty(self) -> bool:
        return not self.lines

    @property
    def units(self) -> int:
        return sum(line.qty for line in self.lines)

    def basket(self) -> Basket:
        """The engine's basket for this draft (the code is resolved by the ledger)."""
        return Basket(self.lines, self.member_id, None, self.redeem_points)

    def add(self, product_id: str, qty: int = 1) -> Draft:
        """Add units of a product; a product already in the basket gets the units on its line."""
        if qty < 1:
            raise ValueError("a quantity is at least 1")
        for index, line in enumerate(self.lines):
            if line.product_id == product_id:
                return self.set_qty(index, line.qty + qty)
        return replace(self, lines=self.lines + (BasketLine(product_id, qty),))

    def set_qty(self, index: int, qty: int) -> Draft:
        """Change a line's quantity; 0 removes the line."""
        if qty <= 0:
            return self.remove(index)
        lines = list(self.lines)
        lines[index] = BasketLine(lines[index].product_id, qty)
        return replace(self, lines=tuple(lines))

    def remove(self, index: int) -> Draft:
        lines = list(self.lines)
        del lines[index]
        draft = replace(self, lines=tuple(lines))
        return draft if lines else replace(draft, redeem_points=0)

    def with_member(self, member_id: str | None) -> Draft:
        """Another member (or none): points to redeem were the old member's, so they go."""
        if member_id == self.member_id:
            return self
        return replace(self, member_id=member_id, redeem_points=0)


def line_owners(draft: Draft, priced: Quote) -> list[int]:
    """For each quote line, the index of the draft line it came from.

    The engine keeps the basket's order and puts the free units of a line on a line of their
    own right after it, so walking both in step and counting units maps one onto the other.
    """
    owners: list[int] = []
    index = 0
    left = draft.lines[0].qty if draft.lines else 0
    for line in priced.lines:
        while index < len(draft.lines) and (left <= 0 or draft.lines[index].product_id != line.product_id):
            index += 1
            left = draft.lines[index].qty if index < len(draft.lines) else 0
        owners.append(min(index, len(draft.lines) - 1))
        left -= line.qty
    return owners


def paid_and_free(lines: tuple[QuoteLine, ...]) -> tuple[int, int]:
    """Units paid for and units given free in a quote."""
    free = sum(line.free_units for line in lines)
    return sum(line.qty for line in lines) - free, free
