"""Properties over random histories of sales, returns and membership changes, written through
record_sale / record_return with the points and coffee_shop programmes:

(a) the engine's status equals a plain-SQL recomputation;
(b) the member_summary cache equals what rebuild_summary makes of the facts (verify() == []);
(c) a sale followed by its full return leaves the member where they were;
(d) the nightly expiry books every lapsed lot without moving anyone's status;
(e) a history exported and imported into a new ledger keeps every status.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos_loyalty import ledger
from pos_loyalty.engine import Basket, BasketLine, member_status
from pos_loyalty.io import exporters
from pos_loyalty.io.importers import import_file
from pos_loyalty.ledger import write
from pos_loyalty.ledger.verify import rebuild_summary, verify

from ..support import engine_view, import_fixture, new_ledger, sql_points_sum, sql_view

START = datetime(2026, 3, 1, 9, 0, 0)
HISTORIES = settings(max_examples=60, deadline=None)
"""Each example replays a whole history through the ledger: keep the count modest."""
PRODUCTS = ["coffee", "tea", "dog", "cat", "beret", "handbag"]
MEMBERS = ["ann", "bob", "cyd"]
PROGRAMS = ["points", "coffee_shop"]


class History:
    """A ledger and the random things that happen to it; time only moves forward."""

    def __init__(self, program_name: str, max_gap_days: int = 3):
        self.max_gap = max_gap_days * 24 * 60
        self.db, self.program = new_ledger(program_name)
        import_fixture(self.db, self.program, "coffee_shop", [("products", "products.csv")])
        ledger.add_member(self.db, self.program, "ann", START, name="Ann", birthday="1990-03-15")
        ledger.add_member(self.db, self.program, "bob", START, name="Bob")
        ledger.add_member(self.db, self.program, "cyd", START, name="Cyd", join=False)
        self.codes = [code for code, _ in ledger.issue_codes(self.db, 6, START, rng=random.Random(0))]
        self.now = START
        self.sales: list[str] = []
        self.instants: list[datetime] = [START]
        self.counter = 0

    def tick(self, data) -> datetime:
        self.now += timedelta(minutes=data.draw(st.integers(min_value=0, max_value=self.max_gap), label="gap"))
        self.instants.append(self.now)
        return self.now

    def status(self, member_id: str, at: datetime | None = None):
        return member_status(self.program, ledger.load_member_facts(self.db, member_id), at or self.now)

    def sell(self, data, member_id: str | None, *, at: datetime | None = None) -> str:
        at = at or self.tick(data)
        items = data.draw(
            st.lists(st.tuples(st.sampled_from(PRODUCTS), st.integers(min_value=1, max_value=7)),
                     min_size=1, max_size=3),
            label="items",
        )
        code = None
        if self.codes and data.draw(st.integers(0, 3), label="use a code") == 0:
            code = self.codes.pop()
        redeem = 0
        if member_id is not None and self.program.points is not None:
            status = self.status(member_id, at)
            if status.active and status.points.balance > 0:
                redeem = data.draw(st.integers(min_value=0, max_value=status.points.balance), label="redeem")
        self.counter += 1
        sale_id = f"S{self.counter:03d}"
        basket = Basket(tuple(BasketLine(p, q) for p, q in items), member_id=member_id, redeem_points=redeem)
        ledger.record_sale(self.db, self.program, basket, at, sale_id, code=code)
        self.sales.append(sale_id)
        return sale_id

    def give_back(self, data, sale_id: str, everything: bool = False, *, at: datetime | None = None) -> None:
        """Return some (or all) of what is left of a sale, in one return."""
        sale = ledger.load_sale(self.db, sale_id)
        left: dict[str, int] = {}
        for line in sale.lines:
            left[line.product_id] = left.get(line.product_id, 0) + line.returnable
        items = []
        for product, qty in sorted(left.items()):
            take = qty if everything else data.draw(st.integers(min_value=0, max_value=qty), label=f"back {product}")
            if take:
                items.append(BasketLine(product, take))
        if not items:  # at least one unit, so a loop of returns always ends
            product = next(p for p, qty in sorted(left.items()) if qty)
            items.append(BasketLine(product, 1))
        ledger.record_return(self.db, self.program, sale_id, items, at or self.tick(data))

    def toggle(self, data, member_id: str) -> None:
        at = self.tick(data)
        active = self.status(member_id, at).active
        ledger.change_membership(self.db, self.program, member_id, at, "resigned" if active else "active")

    def step(self, data) -> None:
        what = data.draw(st.sampled_from(["sale", "sale", "sale", "return", "toggle", "adjust"]), label="step")
        if what == "sale":
            self.sell(data, data.draw(st.sampled_from(MEMBERS + [None]), label="member"))
        elif what == "return":
            open_sales = [s for s in self.sales if any(l.returnable for l in ledger.load_sale(self.db, s).lines)]
            if open_sales:
                self.give_back(data, data.draw(st.sampled_from(open_sales), label="sale"))
        elif what == "toggle":
            self.toggle(data, data.draw(st.sampled_from(MEMBERS), label="who"))
        elif self.program.points is not None:
            points = data.draw(st.integers(min_value=-300, max_value=300).filter(bool), label="adjust")
            ledger.adjust_points(self.db, self.program, data.draw(st.sampled_from(MEMBERS)), points, "test",
                                 self.tick(data))

    def run(self, data, max_steps: int = 20) -> None:
        for _ in range(data.draw(st.integers(min_value=1, max_value=max_steps), label="steps")):
            self.step(data)


def _cached(db) -> dict:
    """The cache, a member with no row read as all zeros (as verify() reads it)."""
    rows = {row[0]: row[1:] for row in db.execute("SELECT * FROM member_summary")}
    return {m: rows.get(m, (0, None, 0, 0, 0)) for (m,) in db.execute("SELECT member_id FROM members")}


@pytest.mark.parametrize("program_name", PROGRAMS)
@HISTORIES
@given(data=st.data())
def test_engine_status_equals_plain_sql(program_name, data):
    history = History(program_name)
    history.run(data)
    # every instant something happened, a second before it, and the end; all well inside a year,
    # so no points lot has expired and the balance is the plain sum of the movements
    instants = sorted({t for i in history.instants for t in (i, i - timedelta(seconds=1))})
    assert history.now - START < timedelta(days=300)
    for at in instants:
        for member_id in MEMBERS:
            facts = ledger.load_member_facts(history.db, member_id)
            status = member_status(history.program, facts, at)
            assert engine_view(history.program, facts, status, at) == sql_view(
                history.db, history.program, member_id, at
            ), (member_id, at)
            if history.program.points is not None:
                assert status.points.balance == sql_points_sum(history.db, member_id, at), (member_id, at)


@pytest.mark.parametrize("program_name", PROGRAMS)
@HISTORIES
@given(data=st.data())
def test_the_summary_cache_is_what_rebuild_makes(program_name, data):
    # steps up to 60 days apart: over two years, so points lots lapse and expire rows are written
    history = History(program_name, max_gap_days=60)
    history.run(data)
    cached = _cached(history.db)
    assert verify(history.db) == []
    with write(history.db):
        rebuild_summary(history.db)
    assert _cached(history.db) == cached
    if history.program.points is not None:
        # once every lapsed lot has its expire row, the balance is the plain sum of the audit trail
        end = history.tick(data)
        for member_id in MEMBERS:
            ledger.adjust_points(history.db, history.program, member_id, 1, "settle", end)
            assert history.status(member_id, end).points.balance == sql_points_sum(history.db, member_id, end)
        assert verify(history.db) == []


@HISTORIES
@given(data=st.data())
def test_the_nightly_expiry_books_every_lapsed_lot_and_changes_no_status(data):
    """After ``expire_all_lapsed``, each member's books (the summary's points and the plain sum of
    the audit trail) equal their balance, no status moved but for the lapsed lots it no longer
    lists as unwritten, and a second run writes nothing."""
    history = History("points", max_gap_days=60)
    history.run(data)
    # up to two years on, so lots earned anywhere in the history may have lapsed since
    end = history.now + timedelta(days=data.draw(st.integers(min_value=0, max_value=730), label="night"))
    before = {member_id: history.status(member_id, end) for member_id in MEMBERS}
    members, points = ledger.expire_all_lapsed(history.db, history.program, end, chunk=2)
    books = {member_id: points_net for member_id, points_net in history.db.execute("SELECT member_id, points_net FROM member_summary")}
    for member_id in MEMBERS:
        after = history.status(member_id, end)
        assert after.points.lapsed == ()  # every lapsed lot has its row now: nothing left to write
        assert after == replace(before[member_id], points=replace(before[member_id].points, lapsed=())), member_id
        balance = before[member_id].points.balance
        assert sql_points_sum(history.db, member_id, end) == balance == books.get(member_id, 0), member_id
    assert verify(history.db) == []
    assert ledger.expire_all_lapsed(history.db, history.program, end) == (0, 0)
    assert (members == 0) == (points == 0)


@pytest.mark.parametrize("program_name", PROGRAMS)
@HISTORIES
@given(data=st.data())
def test_a_sale_and_its_full_return_leave_the_member_where_they_were(program_name, data):
    history = History(program_name)
    history.run(data, max_steps=10)
    member_id = data.draw(st.sampled_from(MEMBERS), label="member")
    before_facts = ledger.load_member_facts(history.db, member_id)
    sale_id = history.sell(data, member_id)
    # give everything back, in one go or bit by bit, now or later
    while any(line.returnable for line in ledger.load_sale(history.db, sale_id).lines):
        history.give_back(data, sale_id, everything=data.draw(st.booleans(), label="all at once"))
    end = history.now
    assert end - START < timedelta(days=300)
    then = engine_view(history.program, before_facts, member_status(history.program, before_facts, end), end)
    now_facts = ledger.load_member_facts(history.db, member_id)
    now_status = member_status(history.program, now_facts, end)
    now = engine_view(history.program, now_facts, now_status, end)
    assert (now["basis"], now["stamps"], now["promotions"]) == (then["basis"], then["stamps"], then["promotions"])
    if history.program.points is not None:
        assert now_status.points.balance == member_status(history.program, before_facts, end).points.balance
    assert verify(history.db) == []


@pytest.mark.parametrize("program_name", ["coffee_shop", "tiered_pln"])
@HISTORIES
@given(data=st.data())
def test_a_history_exported_and_imported_into_a_new_ledger_keeps_every_status(program_name, data):
    """(e) Till sales with tier and code discounts and free items, returns, resignations and
    rejoins: the exports of members, memberships, products, codes and sales, imported in that
    order into a new ledger, give every member the same status at every instant, and the new
    ledger's sales export is the old one's (but for where the sales came from)."""
    history = History(program_name, max_gap_days=20)
    history.run(data)
    exported = ("members", "memberships", "products", "codes", "sales")
    copy, program = new_ledger(program_name)
    with tempfile.TemporaryDirectory() as folder:
        for kind in exported:
            path = Path(folder) / f"{kind}.csv"
            with path.open("w", encoding="utf-8", newline="") as out:
                rows = exporters.ROWS[kind](history.db, history.program, history.now, True)
                exporters.write_rows(rows, out, "csv", header=exporters.csv_header(kind, history.program, True))
            import_file(copy, program, kind, path)
    for at in sorted(set(history.instants)):
        for member_id in MEMBERS:
            old = member_status(history.program, ledger.load_member_facts(history.db, member_id), at)
            new = member_status(program, ledger.load_member_facts(copy, member_id), at)
            assert new == old, (member_id, at)

    def sales(db) -> list[dict]:
        return [{**row, "source": None} for row in exporters.sale_rows(db, program, history.now)]

    assert sales(copy) == sales(history.db)
    assert verify(copy) == []
