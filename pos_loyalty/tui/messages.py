"""Messages the screens' workers post back with what the ledger answered (harlequin's pipeline).

A handler starts a thread worker; the worker calls the ledger and posts one of these; the
screen's handler renders it. Tests watch for them with ``run_test(message_hook=...)``.
"""

from __future__ import annotations

from textual.message import Message

from ..engine import MemberStatus, Product, Quote
from ..ledger import Receipt, ReturnReceipt
from ..ledger.browse import MemberHit
from .draft import Draft


class Priced(Message):
    """The counter's draft priced by the engine (or the member's status when the basket is empty)."""

    def __init__(
        self,
        draft: Draft,
        status: MemberStatus | None,
        quote: Quote | None,
        *,
        code_error: str | None = None,
        points_error: str | None = None,
        error: str | None = None,
        elapsed_ms: float = 0.0,
    ) -> None:
        super().__init__()
        self.draft = draft
        self.status = status
        self.quote = quote
        self.code_error = code_error
        """Why the draft's discount code was refused (the draft is priced without it)."""
        self.points_error = points_error
        """Why the points to redeem were refused (the draft is priced without them)."""
        self.error = error
        """Why the draft could not be priced at all."""
        self.elapsed_ms = elapsed_ms


class MembersFound(Message):
    """Type-ahead answers for the member lookup."""

    def __init__(self, query: str, hits: list[MemberHit]) -> None:
        super().__init__()
        self.query = query
        self.hits = hits


class ProductsFound(Message):
    """Type-ahead answers for the product entry."""

    def __init__(self, query: str, products: list[Product]) -> None:
        super().__init__()
        self.query = query
        self.products = products


class MemberEnrolled(Message):
    """A new member was written to the ledger."""

    def __init__(self, member_id: str, name: str) -> None:
        super().__init__()
        self.member_id = member_id
        self.name = name


class CheckedOut(Message):
    """A checkout was recorded: the receipt."""

    def __init__(self, receipt: Receipt, member_name: str = "") -> None:
        super().__init__()
        self.receipt = receipt
        self.member_name = member_name


class CheckoutFailed(Message):
    """A checkout was refused or the ledger was busy; nothing was written and the basket stays."""

    def __init__(self, draft: Draft, reason: str, *, busy: bool = False, code_refused: bool = False) -> None:
        super().__init__()
        self.draft = draft
        self.reason = reason
        self.busy = busy
        self.code_refused = code_refused
        """The discount code is what was refused (unknown, or used meanwhile by another till)."""


class Returned(Message):
    """A return was recorded."""

    def __init__(self, receipt: ReturnReceipt, member_name: str = "") -> None:
        super().__init__()
        self.receipt = receipt
        self.member_name = member_name


class LedgerFailed(Message):
    """A ledger call refused (one clear line for the cashier or manager)."""

    def __init__(self, action: str, reason: str) -> None:
        super().__init__()
        self.action = action
        self.reason = reason
