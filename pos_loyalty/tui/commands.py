"""The command palette (Ctrl+P) finds members and products in the ledger, and the main actions."""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..engine import Product
from ..ledger.browse import MemberHit, search_members, search_products
from ..views import money

ACTIONS = (
    ("Back office", "back_office", "Members, segments, KPIs, codes and the rules (PIN when set)"),
    ("New sale", "new_sale", "Drop the basket and start again"),
    ("Return items", "return_items", "Return items of an earlier sale"),
)


class LedgerCommands(Provider):
    """Members by id, name, phone or e-mail and products by id or name, straight from the ledger."""

    def _lookup(self, query: str) -> tuple[list[MemberHit], list[Product]]:
        till = self.app.till  # type: ignore[attr-defined]
        with till.ledger() as db:
            return search_members(db, query, limit=6), search_products(db, query, till.now(), limit=6)

    async def search(self, query: str) -> Hits:
        app = self.app
        matcher = self.matcher(query)
        for title, action, help_text in ACTIONS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(app.run_action, action), help=help_text)
        if not query.strip():
            return
        members, products = await asyncio.to_thread(self._lookup, query)
        program = app.till.program  # type: ignore[attr-defined]
        for hit in members:
            text = f"Member {hit.label}"
            # The ledger already matched (also inside phone numbers); keep its hits visible.
            score = max(matcher.match(text), 0.5)
            yield Hit(
                score,
                matcher.highlight(text),
                partial(app.pick_member, hit.member_id),  # type: ignore[attr-defined]
                text=text,
                help="put this member at the counter",
            )
        for product in products:
            text = f"Product {product.name} · {product.product_id} · {money(program, product.price)}"
            score = max(matcher.match(text), 0.4)
            yield Hit(
                score,
                matcher.highlight(text),
                partial(app.add_product, product.product_id),  # type: ignore[attr-defined]
                text=text,
                help="add one to the basket",
            )

    async def discover(self) -> Hits:
        for title, action, help_text in ACTIONS:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)
