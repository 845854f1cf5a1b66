"""The pure loyalty engine: programme rules over a member's facts at an explicit instant.

Standard library only: no SQLite, Textual, Typer or Rich is imported here.
"""

from .events import Event, expiry_event, status_events
from .facts import MemberFacts, MembershipChange, PointMovement, Product, PurchaseLine
from .money import AmountError, format_amount, parse_amount, percent_of
from .program import Program, ProgramError, program_from_toml
from .quote import Basket, BasketLine, CodeOffer, Discount, Quote, QuoteError, QuoteLine, quote
from .status import MemberStatus, PointsStatus, PromotionStatus, StampCardStatus, TierStatus, member_status

__all__ = [
    "AmountError", "Basket", "BasketLine", "CodeOffer", "Discount", "Event", "MemberFacts", "MemberStatus",
    "MembershipChange", "PointMovement", "PointsStatus", "Product", "Program", "ProgramError", "PromotionStatus",
    "PurchaseLine", "Quote", "QuoteError", "QuoteLine", "StampCardStatus", "TierStatus", "expiry_event",
    "format_amount", "member_status", "parse_amount", "percent_of", "program_from_toml", "quote", "status_events",
]
