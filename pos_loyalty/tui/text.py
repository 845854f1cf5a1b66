"""Plain text the TUI shows and saves: receipts, return slips, the programme's rules in words.

Pure functions of engine and ledger values; the receipt screen shows exactly what it saves.
"""

from __future__ import annotations

from ..engine import MemberStatus, Program, Quote
from ..engine.money import format_number
from ..engine.program import Promotion
from ..ledger import Receipt, ReturnReceipt, ts_text
from ..views import money, period_note, tier_basis_text

WIDTH = 44
RULE = "-" * WIDTH


def _row(left: str, right: str, width: int = WIDTH) -> str:
    space = max(1, width - len(left) - len(right))
    return f"{left}{' ' * space}{right}"


def _wrap(text: str, indent: str = "  ", width: int = WIDTH) -> list[str]:
    words, lines, current = text.split(), [], indent
    for word in words:
        if len(current) + len(word) + 1 > width and current.strip():
            lines.append(current.rstrip())
            current = indent
        current += word + " "
    if current.strip():
        lines.append(current.rstrip())
    return lines


def _heading(what: str, at) -> list[str]:
    """``Sale S123…   2026-03-03 09:00:00``, on two lines when it does not fit on one."""
    when = ts_text(at).replace("T", " ")
    if len(what) + len(when) + 1 <= WIDTH:
        return [_row(what, when)]
    return [what, when]


def discount_label(reason: str, detail: str) -> str:
    """How a line's discount reads: ``tier: SILVER 5%``; a stamp's detail already says it all."""
    if reason == "stamp" and detail:
        return detail
    return f"{reason}: {detail}" if detail else reason


def tier_change(priced: Quote) -> str | None:
    """"this purchase takes you to SILVER" when the sale moves the member up (or down) a tier."""
    before = priced.status_before.tier if priced.status_before else None
    after = priced.status_after.tier if priced.status_after else None
    if after is None or before is None or before.name == after.name:
        return None
    verb = "takes you to" if after.rank > before.rank else "moves you to"
    return f"this purchase {verb} {after.name}"


def card_line(card) -> str:
    """A stamp card in words: ``coffee card: 5 of 5, next one free``."""
    if card.next_free:
        return f"{card.name} card: {card.buy} of {card.buy}, next one free"
    left = card.buy - card.position
    return f"{card.name} card: {card.position} of {card.buy}, {left} more to a free one"


def receipt_text(program: Program, receipt: Receipt, member_name: str = "") -> str:
    """The receipt of a checkout as text: lines, discounts, totals, points, tier and stamps."""
    priced = receipt.quote
    out = [program.title.center(WIDTH).rstrip(), RULE]
    out += _heading(f"Sale {receipt.sale_id}", receipt.at)
    if receipt.member_id:
        who = f"{member_name} ({receipt.member_id})" if member_name else receipt.member_id
        out.append(f"Member: {who}")
    else:
        out.append("No member (anonymous sale)")
    if receipt.replayed:
        out.append("(this sale was already recorded: a copy)")
    out.append(RULE)
    for line in priced.lines:
        name = line.name + (" (free)" if line.free_units else "")
        out.append(_row(name[:WIDTH - 22], f"{line.qty} x {money(program, line.unit_price)}  {money(program, line.subtotal):>9}"))
        for discount in line.discounts:
            amount = f"-{money(program, discount.amount)}"
            label = _wrap(discount_label(discount.reason, discount.detail), indent="  ", width=WIDTH - len(amount) - 1)
            out += label[:-1]
            out.append(_row(label[-1], amount))
    out.append(RULE)
    out.append(_row("Subtotal", money(program, priced.subtotal)))
    if priced.discount_total:
        out.append(_row("Discounts", f"-{money(program, priced.discount_total)}"))
    out.append(_row(f"TOTAL {program.currency}", money(program, priced.total)))
    out.append(RULE)
    out += _after_lines(program, priced, receipt.points_balance)
    for message in priced.messages:
        out += _wrap(message, indent="")
    return "\n".join(out) + "\n"


def _after_lines(program: Program, priced: Quote, balance: int | None) -> list[str]:
    out: list[str] = []
    after = priced.status_after
    if program.points is not None and after is not None:
        earned = priced.points_earned + priced.points_bonus
        out.append(f"Points earned {earned} · spent {priced.points_redeemed}")
        out.append(f"Points balance {balance if balance is not None else 0}")
        for reason, points in priced.bonus_reasons:
            out.append(f"  incl. {reason} bonus {points}")
        for period in priced.points_periods:
            out.append(f"  {period_note(period)}")
    if after is not None:
        if after.tier is not None:
            change = tier_change(priced)
            out.append(change[0].upper() + change[1:] if change else f"Tier {after.tier.name}")
            if after.tier.next is not None and after.tier.to_next is not None:
                out.append(f"  {tier_basis_text(program, after.tier.to_next)} more to {after.tier.next}")
        for card in after.stamp_cards:
            out.append(card_line(card))
    return out


def return_text(program: Program, receipt: ReturnReceipt, member_name: str = "", names: dict[str, str] | None = None) -> str:
    """A return slip: what came back, the refund, points taken back or given back, the member after."""
    out = [program.title.center(WIDTH).rstrip(), RULE]
    out += _heading(f"Return {receipt.return_id}", receipt.at)
    out.append(f"of sale {receipt.sale_id}")
    status = receipt.status_after
    if status is not None:
        out.append(f"Member: {member_name or status.name} ({status.member_id})")
    out.append(RULE)
    for line in receipt.lines:
        name = (names or {}).get(line.product_id, line.product_id)
        out.append(_row(f"{name} x {line.qty}", money(program, line.refund)))
    out.append(RULE)
    out.append(_row(f"REFUND {program.currency}", money(program, receipt.refund_total)))
    if receipt.points_clawed_back or receipt.points_restored:
        out.append(f"Points taken back {receipt.points_clawed_back} · given back {receipt.points_restored}")
    if status is not None:
        out.append(RULE)
        if status.points is not None:
            out.append(f"Points balance {status.points.balance}")
        if status.tier is not None:
            out.append(f"Tier {status.tier.name}")
        for card in status.stamp_cards:
            out.append(card_line(card))
    return "\n".join(out) + "\n"


# -- the programme in plain words ----------------------------------------------------------------


def rules_markdown(program: Program) -> str:
    """The programme's rules as Markdown a manager can read out to a customer."""
    out = [f"# {program.title}", "", f"Programme `{program.name}`, amounts in {program.currency}.", ""]
    tiers = program.tiers
    if tiers is not None:
        out += ["## Tiers", ""]
        if tiers.basis == "points":
            basis = "points earned (bonuses and corrections count; spending or expiry does not lower it)"
        else:
            basis = "money spent, net of returns"
        if tiers.window_days:
            basis += f", over the last {tiers.window_days} days"
        else:
            basis += ", all time"
        if tiers.since_first_join:
            basis += ", counted from the day the member first joined"
        out += [f"A member's tier is decided on {basis}. A customer who is not an active member has no tier.", ""]
        word = "more than" if tiers.comparison == "above" else "at least"
        for tier in tiers.levels:
            if tier.threshold is None:
                reach = "where everyone starts"
            elif tiers.basis == "points":
                reach = f"{word} {tier.threshold} points"
            else:
                reach = f"{word} {money(program, tier.threshold)} {program.currency}"
            perks = []
            if tier.discount_percent:
                perks.append(f"{format_number(tier.discount_percent)} % off")
            if tier.points_multiplier != 1:
                perks.append(f"points × {format_number(tier.points_multiplier)}")
            perks += [p for p in tier.perks if "% off" not in p]
            out.append(f"- **{tier.name}**: {reach}" + (f" — {', '.join(perks)}" if perks else ""))
        out.append("")
    if program.stamp_cards:
        out += ["## Stamp cards", ""]
        for card in program.stamp_cards:
            covers = ", ".join(sorted(card.products | {f"anything in {c}" for c in card.categories}))
            out.append(
                f"- **{card.name}**: every {covers} bought is a stamp; after {card.buy} stamps the next one "
                f"is free (the {_ordinal(card.buy + 1)}), then the card starts again. The free one is applied "
                "at the counter, also inside the same basket."
            )
        out.append("")
    if program.promotions:
        out += ["## Promotions", ""]
        for promo in program.promotions:
            out.append(f"- **{promo.name}**: {promo.description or _promotion_words(program, promo)}")
            out.append(f"  - who: {_promotion_words(program, promo)}")
        out.append("")
    points = program.points
    if points is not None:
        out += ["## Points", ""]
        out.append(f"- {points.per_unit} points for every 1.00 {program.currency} actually paid, rounded down per sale.")
        bonuses = [
            (points.signup_bonus, "for joining"),
            (points.first_purchase_bonus, "on the first purchase"),
            (points.birthday_bonus, "in the birthday month"),
        ]
        for value, when in bonuses:
            if value:
                out.append(f"- {value} bonus points {when}.")
        for period in points.periods:
            out.append(f"- From {period.start} to {period.end} points count × {format_number(period.multiplier)}.")
        if points.redeem_points:
            out.append(
                f"- {points.redeem_points} points take 1.00 {program.currency} off at the till, "
                "never more than the basket."
            )
        if points.expiry_days:
            out.append(
                f"- Points expire {points.expiry_days} days after they are earned (the oldest are spent first); "
                f"the member is told {points.expiring_soon_days} days ahead."
            )
        out.append("- A return takes back the points its units earned.")
        out.append("")
    out += ["## When discounts meet", ""]
    if program.stacking.policy == "best":
        out.append("When several percentage discounts could apply to a line, the best single one applies.")
    else:
        order = ", then ".join(program.stacking.order)
        out.append(f"Percentage discounts stack on each line in this order: {order}.")
    out.append("Free items always apply. Discount codes are single-use: an unknown or used code is refused.")
    return "\n".join(out) + "\n"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _promotion_words(program: Program, promo: Promotion) -> str:
    parts = []
    history = promo.history
    if history is not None:
        if history.all_of:
            parts.append("has bought " + " and ".join(sorted(history.all_of)))
        if history.none_of:
            parts.append("never bought " + " or ".join(sorted(history.none_of)))
        if history.spend_above is not None:
            scope = " and ".join(sorted(history.scope or (history.all_of | history.none_of)))
            parts.append(f"spent more than {money(program, history.spend_above)} on {scope}")
        if history.window_days:
            parts.append(f"within the last {history.window_days} days")
    basket = promo.basket
    if basket is not None:
        if basket.min_total is not None:
            parts.append(f"a basket of at least {money(program, basket.min_total)}")
        if basket.buy_product is not None:
            parts.append(f"buys {basket.buy_qty} {basket.buy_product}, gets {basket.get_qty} free")
    reward = promo.reward
    if reward.kind == "percent":
        target = ", ".join(sorted(reward.products | reward.categories)) or "everything"
        parts.append(f"gets {format_number(reward.percent)} % off {target}")
    elif reward.kind == "free_product":
        parts.append(f"gets a free {', '.join(sorted(reward.products))}")
    elif reward.message:
        parts.append(f"the cashier is told: “{reward.message}”")
    return "; ".join(parts) or "always"


def status_summary(program: Program, status: MemberStatus) -> list[str]:
    """A member's status in a few lines (member detail screen)."""
    out = []
    out.append("active member" if status.active else "not an active member")
    if status.tier is not None:
        tier = status.tier
        line = f"{tier.name} on {tier_basis_text(program, tier.basis)}"
        if tier.next is not None and tier.to_next is not None:
            line += f" · {tier_basis_text(program, tier.to_next)} to {tier.next}"
        out.append(line)
    for card in status.stamp_cards:
        out.append(card_line(card))
    for promo in status.promotions:
        out.append(f"qualifies for {promo.name} ({', '.join(promo.products)})")
    if status.points is not None:
        line = f"{status.points.balance} points"
        if status.points.expiring:
            line += f" · {status.points.expiring_total} expiring soon"
        out.append(line)
    return out
