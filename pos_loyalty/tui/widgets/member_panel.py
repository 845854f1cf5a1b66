"""The live member panel: tier badge, progress to the next tier, the stamp card as cups, promotions, points.

Attributes down: the counter screen calls :meth:`MemberPanel.show` with the programme, the
member's status and the current quote; the panel only draws.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.containers import VerticalScroll

from ...engine import MemberStatus, Program, Quote
from ...engine.money import format_number
from ...engine.status import StampCardStatus
from ...views import money, period_note, tier_basis_text
from ..text import tier_change
from .readout import Readout

TIER_COLOURS = ("#9e9e9e", "#cd7f32", "#c0c0c0", "#ffd700", "#b9f2ff", "#e5e4e2")
"""Badge colours by tier rank (1 = the entry tier)."""

CUP = "☕"
EMPTY = "○ "
FREE = "★ "
BAR_WIDTH = 24


def tier_badge(name: str, rank: int) -> Text:
    colour = TIER_COLOURS[min(max(rank, 1), len(TIER_COLOURS)) - 1]
    return Text(f" {name} ", style=f"bold black on {colour}")


def tier_bounds(program: Program, tier_name: str, next_name: str | None) -> tuple[int, int | None]:
    """The basis at which the current tier starts and the next one starts (None at the top)."""
    tiers = program.tiers
    assert tiers is not None
    current = program.tier_named(tier_name)
    following = program.tier_named(next_name) if next_name else None
    low = current.threshold if current is not None and current.threshold is not None else 0
    high = None
    if following is not None and following.threshold is not None:
        high = following.threshold + (1 if tiers.comparison == "above" else 0)
    return low, high


def progress_bar(program: Program, status: MemberStatus, after: MemberStatus | None) -> Text:
    """``▕██████▒▒░░░░▏``: the way through this tier, with what this basket adds shaded."""
    tier = status.tier
    assert tier is not None
    low, high = tier_bounds(program, tier.name, tier.next)
    bar = Text("▕")
    if high is None:
        bar.append("█" * BAR_WIDTH, style="#ffd700")
        bar.append("▏ top tier")
        return bar
    span = max(1, high - low)
    now = min(BAR_WIDTH, max(0, (tier.basis - low) * BAR_WIDTH // span))
    later = now
    if after is not None and after.tier is not None:
        later = min(BAR_WIDTH, max(now, (after.tier.basis - low) * BAR_WIDTH // span))
        if after.tier.rank > tier.rank:
            later = BAR_WIDTH
    bar.append("█" * now, style="green")
    bar.append("▓" * (later - now), style="bold yellow")
    bar.append("░" * (BAR_WIDTH - later), style="dim")
    bar.append("▏")
    return bar


def stamp_cups(card: StampCardStatus) -> Text:
    """The card as cups: one per stamp, empty circles still to go, and a star for the free one."""
    cups = Text()
    stamped = card.buy if card.next_free else card.position
    for slot in range(card.buy):
        if slot < stamped:
            cups.append(CUP, style="#c58b4e")
        else:
            cups.append(EMPTY, style="dim")
        cups.append(" ")
    cups.append("│ ", style="dim")
    cups.append(FREE, style="bold green" if card.next_free else "dim")
    return cups


def card_caption(card: StampCardStatus) -> Text:
    if card.next_free:
        return Text("next one free", style="bold green")
    left = card.buy - card.position
    return Text(f"{card.position} of {card.buy} · {left} more for a free one", style="dim")


def panel_content(program: Program, status: MemberStatus | None, priced: Quote | None) -> RenderableType:
    """Everything the panel draws, from engine values only."""
    if status is None:
        return Group(
            Text("No member", style="bold"),
            Text("F2 find a member by id, name, phone or e-mail · F4 enrol a new one", style="dim"),
        )
    parts: list[RenderableType] = []
    heading = Text(status.name or "(no name)", style="bold")
    heading.append(f"  {status.member_id}", style="dim")
    parts.append(heading)
    after = priced.status_after if priced is not None else None
    if not status.active:
        parts.append(Text("not an active member: no tier, no discounts", style="bold red"))
    elif status.tier is not None:
        tier = status.tier
        line = tier_badge(tier.name, tier.rank)
        if tier.discount_percent:
            line.append(f"  {format_number(tier.discount_percent)} % off", style="bold")
        parts.append(line)
        if tier.next is not None and tier.to_next is not None:
            parts.append(Text(f"{tier_basis_text(program, tier.to_next)} to {tier.next}"))
        parts.append(progress_bar(program, status, after))
        if after is not None and after.tier is not None and after.tier.next and not (after.tier.rank > tier.rank):
            if after.tier.to_next is not None and after.tier.to_next != tier.to_next:
                parts.append(Text(f"after this sale: {tier_basis_text(program, after.tier.to_next)} to {after.tier.next}", style="yellow"))
    for card in status.stamp_cards:
        parts.append(Text(""))
        parts.append(Text(f"{card.name} card", style="bold"))
        parts.append(stamp_cups(card))
        parts.append(card_caption(card))
    if status.promotions:
        parts.append(Text(""))
        parts.append(Text("Promotions", style="bold"))
        for promo in status.promotions:
            line = Text("• ")
            line.append(promo.name + ":", style="bold magenta")
            why = promo.description or ""
            if promo.products:
                why += f" (bought {', '.join(promo.products)})"
            line.append(f" {why}".rstrip())
            parts.append(line)
    if status.points is not None:
        parts.append(Text(""))
        line = Text("Points ", style="bold")
        line.append(str(status.points.balance), style="bold cyan")
        if status.points.expiring:
            line.append(f" · {status.points.expiring_total} expiring soon", style="yellow")
        parts.append(line)
    if priced is not None and priced.lines:
        sale: list[Text] = []
        change = tier_change(priced)
        if change:
            sale.append(Text(f"➜ {change}", style="bold yellow"))
        if program.points is not None and status.active:
            earned = priced.points_earned + priced.points_bonus
            line = Text(f"earns {earned} points")
            if priced.points_redeemed:
                line.append(f" · spends {priced.points_redeemed}")
            if after is not None and after.points is not None:
                line.append(f" → balance {after.points.balance}")
            sale.append(line)
            for reason, points in priced.bonus_reasons:
                sale.append(Text(f"  incl. {reason} bonus {points}", style="dim"))
            for period in priced.points_periods:
                sale.append(Text(f"  {period_note(period)}", style="dim"))
        free = sum(line.free_units for line in priced.lines)
        if free:
            sale.append(Text(f"{free} free item{'s' if free > 1 else ''} in this basket", style="green"))
        if after is not None:
            for before_card, after_card in zip(status.stamp_cards, after.stamp_cards):
                if after_card.count != before_card.count:
                    caption = "next one free" if after_card.next_free else f"{after_card.position} of {after_card.buy}"
                    sale.append(Text(f"{after_card.name} card after: {caption}", style="dim"))
        for message in priced.messages:
            sale.append(Text(f"★ {message}", style="bold magenta"))
        if sale:
            parts += [Text(""), Text("This sale", style="bold underline"), *sale]
    return Group(*parts)


class MemberPanel(VerticalScroll, can_focus=False):
    """The member at the counter, redrawn on every basket change."""

    def compose(self):
        yield Readout(id="member-panel-body")

    def show(self, program: Program, status: MemberStatus | None, priced: Quote | None) -> None:
        """Draw ``status`` (before the basket) and what ``priced`` will do to it."""
        self.query_one("#member-panel-body", Readout).show(panel_content(program, status, priced))
        self.set_class(status is None, "-empty")
        self.border_title = "Member"
        if status is not None and status.tier is not None:
            self.border_subtitle = status.tier.name
        else:
            self.border_subtitle = ""


def totals_text(program: Program, priced: Quote | None, code: str | None, redeem: int) -> Text:
    """The basket's totals: subtotal and discounts, then the total; the code and points in use."""
    if priced is None:
        text = Text("Basket empty · F3 add an item", style="dim")
        if code:
            text.append(f"\ncode {code} (checked when the first item goes in)", style="cyan")
        return text
    text = Text()
    extras = []
    if code:
        extras.append(f"code {code}")
    if priced.points_redeemed:
        extras.append(f"{priced.points_redeemed} points redeemed")
    elif redeem:
        extras.append(f"{redeem} points asked")
    if extras:
        text.append(" · ".join(extras) + "   ", style="cyan")
    text.append(f"Subtotal {money(program, priced.subtotal)}")
    if priced.discount_total:
        text.append(f" · Discounts -{money(program, priced.discount_total)}", style="green")
    text.append("\n")
    text.append(f" TOTAL {money(program, priced.total)} {program.currency} ", style="bold reverse")
    return text
