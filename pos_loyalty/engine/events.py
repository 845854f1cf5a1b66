"""Outbox events: what changed for a member that they (or the shop) should hear about."""

from __future__ import annotations

from dataclasses import dataclass, field

from .status import MemberStatus


@dataclass(frozen=True, slots=True)
class Event:
    """Something worth telling: a tier change, a reward ready, a promotion met, points expiring."""

    kind: str
    member_id: str
    payload: dict = field(default_factory=dict)


def status_events(before: MemberStatus, after: MemberStatus) -> tuple[Event, ...]:
    """The events a fact caused, from the member's status just before and just after it."""
    events: list[Event] = []
    member = after.member_id
    old_tier, new_tier = before.tier, after.tier
    if old_tier is not None and new_tier is not None and old_tier.name != new_tier.name:
        direction = "up" if new_tier.rank > old_tier.rank else "down"
        events.append(Event("tier_changed", member, {"from": old_tier.name, "to": new_tier.name, "direction": direction}))
    old_cards = {card.name: card for card in before.stamp_cards}
    for card in after.stamp_cards:
        was = old_cards.get(card.name)
        if card.next_free and not (was and was.next_free):
            events.append(Event("stamp_reward_ready", member, {"card": card.name, "count": card.count}))
    old_promos = {promo.name for promo in before.promotions}
    for promo in after.promotions:
        if promo.name not in old_promos:
            events.append(Event("promotion_met", member, {"promotion": promo.name, "products": list(promo.products)}))
    return tuple(events)


def expiry_event(status: MemberStatus, notified) -> Event | None:
    """A "points expiring" event when a lot not yet warned about comes into the warning period."""
    if status.points is None or not status.points.expiring:
        return None
    points, soonest = status.points.expiring[0]
    if notified is not None and soonest <= notified:
        return None
    latest = max(expires for _, expires in status.points.expiring)
    return Event(
        "points_expiring",
        status.member_id,
        {"points": status.points.expiring_total, "soonest": soonest.isoformat(), "latest": latest.isoformat()},
    )
