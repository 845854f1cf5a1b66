"""Writes: each one transaction, append-only, with its points, events and cache rows together."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from fractions import Fraction

from sqlite_utils import Database

from ..engine import (
    Basket,
    BasketLine,
    CodeOffer,
    Event,
    MemberFacts,
    MemberStatus,
    Program,
    Quote,
    QuoteError,
    QuoteLine,
    expiry_event,
    member_status,
    quote,
    status_events,
)
from ..engine.money import parse_number, share
from ..engine.points import clawback, expiry_for, points_book, restore
from .connection import LedgerError, insert, insert_into, write
from .contacts import ContactError, email_address, phone_number
from .reads import (
    PROGRAM_KEY, SaleRecord, load_catalogue, load_member_facts, load_sale, member_exists, member_stamp, read_member,
)
from .schema_browse import NAME_INDEX
from .timestamps import TimestampError, parse_day, ts_text

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: codes are read off scratch cards."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """A checked-out sale as the cashier's receipt shows it."""

    sale_id: str
    at: datetime
    member_id: str | None
    quote: Quote
    points_balance: int | None
    replayed: bool = False
    """True when this sale id had already been recorded: nothing new was written."""


@dataclass(frozen=True, slots=True)
class ReturnedLine:
    product_id: str
    qty: int
    refund: int
    original_line_no: int


@dataclass(frozen=True, slots=True)
class ReturnReceipt:
    """A recorded return: what went back, what was refunded, what it did to the member."""

    return_id: str
    sale_id: str
    at: datetime
    lines: tuple[ReturnedLine, ...]
    points_clawed_back: int
    points_restored: int
    status_after: MemberStatus | None

    @property
    def refund_total(self) -> int:
        return sum(line.refund for line in self.lines)


def set_program(db: Database, program_text: str, source: str) -> Program:
    """Store the programme a ledger runs (validated first)."""
    from ..engine import program_from_toml

    program = program_from_toml(program_text, source)
    with write(db):
        db["settings"].upsert({"key": PROGRAM_KEY, "value": program_text}, pk="key")
        db["settings"].upsert({"key": "program_name", "value": program.name}, pk="key")
    return program


# -- checkout -------------------------------------------------------------------------------


def new_sale_id(opened_at: datetime | None = None) -> str:
    """An id chosen when the basket opens, so a retried checkout cannot post twice.

    Given the instant the basket opened, the id starts with it (``S20261125T141502-9F3A1C``):
    ids then sort by time, read well on a receipt, and land at the end of the sales index
    instead of on a random page of it.
    """
    suffix = secrets.token_hex(3).upper()
    if opened_at is None:
        return f"S{secrets.token_hex(5).upper()}-{suffix}"
    return f"S{opened_at:%Y%m%dT%H%M%S}-{suffix}"


def record_sale(
    db: Database,
    program: Program,
    basket: Basket,
    at: datetime,
    sale_id: str,
    code: str | None = None,
) -> Receipt:
    """Check out ``basket`` as one transaction; the same ``sale_id`` twice records one sale.

    The basket is priced before the write lock is taken, from one consistent read of the ledger, so
    other tills go on writing meanwhile. Under the lock, a stamp of everything that price rests on
    (the member's rows, the catalogue) is read again; if another till moved any of it, or the early
    pricing was refused, the basket is priced again there, so what is written is always exact.
    """
    code = code or (basket.code.code if basket.code else None)
    early = None if db.conn.in_transaction else _price_in_snapshot(db, program, basket, at, code)
    # The rows are shaped before the lock too: other tills queue for it, so it is held for SQLite's
    # work only.
    early_rows = None if early is None else _sale_rows(program, early, sale_id, at)
    with write(db):
        existing = load_sale(db, sale_id)
        if existing is not None:
            return _replayed(db, program, existing, basket, code)
        if early is not None and (early.seen == _data_version(db) or early.stamp == member_stamp(db, basket.member_id)):
            priced, rows = early, early_rows  # nobody else has written since, or nothing this price rests on moved
        else:
            priced = _price(db, program, basket, at, code)
            rows = _sale_rows(program, priced, sale_id, at)
        if priced.basket.code is not None:
            _refuse_used(db, priced.basket.code.code)
        rows.write(db)
    quoted = priced.quote
    balance = quoted.status_after.points.balance if quoted.status_after and quoted.status_after.points else None
    return Receipt(sale_id, at, priced.basket.member_id, quoted, balance)


@dataclass(frozen=True, slots=True)
class _Rows:
    """The rows one write adds, in the order they go in, and its change to the member's totals."""

    inserts: tuple[tuple[str, list[dict]], ...]
    """(table, rows): a table may come twice, for rows of different columns."""
    summary: tuple[str, dict] | None = None
    """The statement that adds the write to the member's totals (:func:`_summary_upsert`)."""

    def write(self, db: Database) -> None:
        for table, rows in self.inserts:
            insert(db, table, rows)
        if self.summary is not None:
            db.execute(*self.summary)


def _sale_rows(program: Program, priced: "_Priced", sale_id: str, at: datetime) -> _Rows:
    """Every row a priced sale adds: the sale, its lines and discounts, its code's redemption, and for
    a member their point movements, events and totals."""
    facts, basket, quoted = priced.facts, priced.basket, priced.quote
    ts = ts_text(at)
    inserts = [("sales", [_sale_row(sale_id, ts, basket, quoted)]), *_line_rows(sale_id, ts, basket.member_id, quoted.lines)]
    if basket.code is not None:
        inserts.append(("code_redemptions", [{"code": basket.code.code, "sale_id": sale_id, "ts": ts}]))
    summary = None
    if facts is not None and quoted.status_after is not None:
        points_rows, points = _points_rows(program, facts, sale_id, at, quoted)
        inserts += points_rows
        events = list(quoted.events)
        warning = expiry_event(quoted.status_after, facts.notified_expiry)
        if warning is not None:
            events.append(warning)
        inserts.append(("outbox", _event_rows(at, events, "sale", sale_id)))
        summary = _summary_upsert(basket.member_id, at, visits=1, spend=quoted.total, points=points)
    return _Rows(tuple((table, rows) for table, rows in inserts if rows), summary)


@dataclass(frozen=True, slots=True)
class _Priced:
    """A basket priced against the ledger, with the stamp of what the price was read from."""

    facts: MemberFacts | None
    basket: Basket
    """The basket with its code looked up in the ledger."""
    quote: Quote
    stamp: tuple
    seen: int
    """SQLite's ``data_version`` of the read: it moves only when another connection commits."""


def _data_version(db: Database) -> int:
    return db.conn.execute("PRAGMA data_version").fetchone()[0]


def _price_in_snapshot(db: Database, program: Program, basket: Basket, at: datetime, code: str | None) -> _Priced | None:
    """:func:`_price` in one read transaction, or None where it was refused (the caller prices
    again under the write lock, where a retried sale is recognised before anything is refused)."""
    db.conn.execute("BEGIN")
    try:
        return _price(db, program, basket, at, code)
    except LedgerError:
        return None
    finally:
        db.conn.execute("COMMIT")


def _price(db: Database, program: Program, basket: Basket, at: datetime, code: str | None) -> _Priced:
    facts = None
    if basket.member_id is None:
        stamp = member_stamp(db, None)
    else:
        read = read_member(db, basket.member_id)
        if read is None:
            raise LedgerError(f"unknown member {basket.member_id!r}")
        facts, stamp = read
        if basket.redeem_points and facts.points and facts.points[-1].ts > at:
            # Priced as of ``at``, the balance would not see points already spent later on:
            # another till (whose clock read later) got there first. Refuse, never spend twice.
            raise LedgerError(
                f"{basket.member_id}'s points changed at {ts_text(facts.points[-1].ts)}, after this sale's "
                f"time {ts_text(at)}; check the till's clock and try again"
            )
    # A code is always looked up here, never taken on the caller's word.
    if code or basket.code is not None:
        basket = replace(basket, code=_code_offer(db, code) if code else None)
    catalogue = _priced_catalogue(db, basket, at, version=stamp[0])
    try:
        priced = quote(program, facts, basket, catalogue, at)
    except QuoteError as exc:
        raise LedgerError(str(exc)) from None
    return _Priced(facts, basket, priced, stamp, _data_version(db))


def _priced_catalogue(db: Database, basket: Basket, at: datetime, version: int | None = None):
    """The basket's products at their price in force; a product without one is named."""
    wanted = [line.product_id for line in basket.lines]
    catalogue = load_catalogue(db, at, wanted, version=version)
    for product_id in wanted:
        if product_id not in catalogue and db.execute(
            "SELECT 1 FROM products WHERE product_id = ?", [product_id]
        ).fetchone():
            raise LedgerError(f"{product_id} has no catalogue price at {ts_text(at)}")
    return catalogue


def _code_offer(db: Database, code: str) -> CodeOffer:
    row = db.execute("SELECT code, percent FROM codes WHERE code = ?", [code.strip().upper()]).fetchone()
    if row is None:
        raise LedgerError(f"unknown discount code {code!r}")
    return CodeOffer(row[0], parse_number(row[1]))


def _usable_code(db: Database, code: str) -> CodeOffer:
    offer = _code_offer(db, code)
    _refuse_used(db, offer.code)
    return offer


def _refuse_used(db: Database, code: str) -> None:
    """Checked under the write lock: of two tills offering one code at once, the second is told."""
    used = db.execute("SELECT sale_id FROM code_redemptions WHERE code = ?", [code]).fetchone()
    if used is not None:
        raise LedgerError(f"discount code {code} was already used (sale {used[0]})")


def _sale_row(sale_id: str, ts: str, basket: Basket, priced: Quote) -> dict:
    return {
        "sale_id": sale_id,
        "ts": ts,
        "member_id": basket.member_id,
        "kind": "sale",
        "original_sale_id": None,
        "discount_code": basket.code.code if basket.code else None,
        "subtotal": priced.subtotal,
        "discount_total": priced.discount_total,
        "total": priced.total,
        "points_earned": priced.points_earned,
        "points_bonus": priced.points_bonus,
        "points_redeemed": priced.points_redeemed,
        "source": "till",
    }


def _line_rows(sale_id: str, ts: str, member_id: str | None, lines) -> list[tuple[str, list[dict]]]:
    """The sale's lines and their discounts, as (table, rows)."""
    line_rows = [
        {
            "sale_id": sale_id,
            "line_no": line_no,
            "member_id": member_id,
            "ts": ts,
            "product_id": line.product_id,
            "qty": line.qty,
            "unit_price": line.unit_price,
            "list_amount": line.subtotal,
            "free_units": line.free_units,
            "total": line.total,
            "original_line_no": None,
        }
        for line_no, line in enumerate(lines, start=1)
    ]
    discount_rows = [
        {
            "sale_id": sale_id,
            "line_no": line_no,
            "seq": seq,
            "reason": discount.reason,
            "amount": discount.amount,
            "detail": discount.detail,
        }
        for line_no, line in enumerate(lines, start=1)
        for seq, discount in enumerate(line.discounts, start=1)
    ]
    return [("sale_lines", line_rows), ("line_discounts", discount_rows)]


def _points_rows(program: Program, facts, sale_id: str, at: datetime, priced: Quote) -> tuple[list, int]:
    """The sale's point movements and the lots that lapsed before it, as (table, rows); the points
    they add in all."""
    rules = program.points
    if rules is None:
        return [], 0
    member_id = facts.member_id
    # The quote's status before the sale replayed these facts' points as of ``at``: what lapsed.
    lapsed_rows, lapsed = _lapsed_rows(member_id, facts, priced.status_before.points.lapsed)
    expires = ts_text(e) if (e := expiry_for(rules, at)) else None
    moves = []
    if priced.points_redeemed:
        moves.append(("redeem", -priced.points_redeemed, None, None))
    if priced.points_earned:
        moves.append(("earn", priced.points_earned, expires, None))
    for reason, points in priced.bonus_reasons:
        moves.append(("bonus", points, expires, reason))
    movement_rows, added = _movement_rows(member_id, at, moves, sale_id)
    return [("point_movements", lapsed_rows), ("point_movements", movement_rows)], added - lapsed


def _insert_movements(db: Database, member_id: str, at: datetime, moves, sale_id: str | None = None) -> int:
    """Point movements ``(kind, points, expires, reason)`` of one member at ``at``; the points they add.

    Like every writer of point movements here it leaves ``member_summary`` to its caller, who
    adds all of one write's changes to the member's totals in one statement (:func:`_bump_summary`).
    """
    rows, points = _movement_rows(member_id, at, moves, sale_id)
    insert(db, "point_movements", rows)
    return points


def _movement_rows(member_id: str, at: datetime, moves, sale_id: str | None) -> tuple[list[dict], int]:
    ts = ts_text(at)
    rows = [
        {
            "member_id": member_id,
            "ts": ts,
            "kind": kind,
            "points": points,
            "expires_at": expires,
            "sale_id": sale_id,
            "reason": reason,
        }
        for kind, points, expires, reason in moves
    ]
    return rows, sum(points for _, points, _, _ in moves)


def expire_lapsed(db: Database, program: Program, member_id: str, at: datetime) -> int:
    """Write ``expire`` rows for lots that lapsed by ``at``, each dated when it lapsed; the points taken."""
    if program.points is None:
        return 0
    facts = load_member_facts(db, member_id)
    return _write_lapsed(db, member_id, facts, points_book(facts.points, at).expired_unrecorded)


def expire_all_lapsed(db: Database, program: Program, at: datetime, *, chunk: int = 100) -> tuple[int, int]:
    """Write the ``expire`` rows of every lot that lapsed by ``at``, for every member: (members,
    points). The nightly job of a points programme.

    A lapsed lot leaves the member's balance at its instant whether or not its row exists (the
    engine replays expiry), and the row is written with the member's next change anyway; but the
    member list, its sort by points and the summary read the rows' running total, which counts a
    lot until its row is written. One transaction per ``chunk`` members, so tills selling meanwhile
    wait for a few milliseconds at most; run again, it writes nothing.
    """
    if program.points is None:
        return 0, 0
    candidates = [member_id for (member_id,) in db.execute(_LAPSED_UNRECORDED, {"at": ts_text(at)})]
    members = points = 0
    for start in range(0, len(candidates), chunk):
        with write(db):
            for member_id in candidates[start:start + chunk]:
                taken = expire_lapsed(db, program, member_id, at)
                if taken:
                    _bump_summary(db, member_id, None, points=-taken)
                    members += 1
                    points += taken
    return members, points


_LAPSED_UNRECORDED = """
    SELECT DISTINCT lot.member_id FROM point_movements lot
      JOIN member_summary s ON s.member_id = lot.member_id
     WHERE lot.points > 0 AND lot.expires_at <= :at AND s.points_net > 0
       AND lot.movement_id NOT IN (SELECT lot_id FROM point_movements WHERE kind = 'expire' AND lot_id IS NOT NULL)
     ORDER BY lot.member_id
"""
"""Members who may hold a lapsed lot without its ``expire`` row: a lot that expired by then with none
written, and points on the books. Every write that moves a member's points first writes the rows of
the lots lapsed by its time, so the books then equal the balance; with none left on them, no lot
holds any (a debt is only ever owed once every live lot is spent, and new points pay it first), and
none can lapse with points in it."""


def _write_lapsed(db: Database, member_id: str, facts, lapsed) -> int:
    """An ``expire`` row for each (lot id, points) lapsed, dated when its lot lapsed; the points taken
    (the caller takes them off the member's summary)."""
    rows, points = _lapsed_rows(member_id, facts, lapsed)
    insert(db, "point_movements", rows)
    return points


def _lapsed_rows(member_id: str, facts, lapsed) -> tuple[list[dict], int]:
    if not lapsed:
        return [], 0
    expires = {m.movement_id: m.expires_at for m in facts.points}
    rows = [
        {"member_id": member_id, "ts": ts_text(expires[lot_id]), "kind": "expire", "points": -points, "lot_id": lot_id}
        for lot_id, points in lapsed
    ]
    return rows, sum(points for _, points in lapsed)


def _write_events(db: Database, at: datetime, events: list[Event], cause_kind: str, cause_id: str) -> None:
    insert(db, "outbox", _event_rows(at, events, cause_kind, cause_id))


def _event_rows(at: datetime, events: list[Event], cause_kind: str, cause_id: str) -> list[dict]:
    ts = ts_text(at)
    return [
        {
            "ts": ts,
            "member_id": event.member_id,
            "kind": event.kind,
            "payload": json.dumps(event.payload, sort_keys=True),
            "cause_kind": cause_kind,
            "cause_id": cause_id,
        }
        for event in events
    ]


def _bump_summary(
    db: Database, member_id: str, at: datetime | None, *, visits: int = 0, spend: int = 0, refunds: int = 0, points: int = 0
) -> None:
    """Keep the per-member running totals (a cache ``verify`` rebuilds and compares)."""
    db.execute(*_summary_upsert(member_id, at, visits=visits, spend=spend, refunds=refunds, points=points))


def _summary_upsert(
    member_id: str, at: datetime | None, *, visits: int = 0, spend: int = 0, refunds: int = 0, points: int = 0
) -> tuple[str, dict]:
    """The statement that adds a write to the member's running totals, and its parameters.

    Only the totals that change are SET: SQLite rewrites an index whenever its column is assigned,
    even to the same value, and every index entry rewritten is another page in the commit.
    """
    changes = {"visits": visits, "spend": spend, "refunds": refunds, "points_net": points}
    assignments = [f"{column} = {column} + :{column}" for column, delta in changes.items() if delta]
    if at is not None:
        assignments.append("last_visit = max(coalesce(last_visit, ''), :last_visit)")
    return (
        _SUMMARY_UPSERT.format(action=f"UPDATE SET {', '.join(assignments)}" if assignments else "NOTHING"),
        {"member_id": member_id, "last_visit": ts_text(at) if at else None, **changes},
    )


_SUMMARY_UPSERT = """
    INSERT INTO member_summary (member_id, visits, last_visit, spend, refunds, points_net)
    VALUES (:member_id, :visits, :last_visit, :spend, :refunds, :points_net)
    ON CONFLICT (member_id) DO {action}
"""


def _replayed(db: Database, program: Program, sale: SaleRecord, basket: Basket, code: str | None) -> Receipt:
    """The receipt of a sale already recorded under this id, if the retry is the same basket.

    Same member, same units, same code and the same points offered: anything else is another sale.
    """
    wanted = Counter()
    for line in basket.lines:
        wanted[line.product_id] += line.qty
    recorded = Counter()
    for line in sale.lines:
        recorded[line.product_id] += line.qty
    code = code or (basket.code.code if basket.code else None)
    same_code = (code or "").strip().upper() == (sale.discount_code or "")
    same_points = basket.redeem_points == 0 if sale.points_redeemed == 0 else basket.redeem_points >= sale.points_redeemed
    if sale.kind != "sale" or sale.member_id != basket.member_id or wanted != recorded or not same_code or not same_points:
        raise LedgerError(f"sale id {sale.sale_id} is already used by a different sale; nothing was written")
    return receipt_for(db, program, sale)



def receipt_for(db: Database, program: Program, sale: SaleRecord) -> Receipt:
    """Rebuild the receipt of a recorded sale from the ledger."""
    catalogue = load_catalogue(db, sale.ts, [line.product_id for line in sale.lines])
    lines = tuple(
        QuoteLine(
            line.product_id,
            catalogue[line.product_id].name if line.product_id in catalogue else line.product_id,
            catalogue[line.product_id].category if line.product_id in catalogue else None,
            line.qty,
            line.unit_price,
            line.discounts,
            line.free_units,
        )
        for line in sale.lines
    )
    status = None
    balance = None
    if sale.member_id is not None:
        facts = load_member_facts(db, sale.member_id)
        status = member_status(program, facts, sale.ts)
        balance = status.points.balance if status.points else None
    rebuilt = Quote(
        lines,
        points_earned=sale.points_earned,
        points_bonus=sale.points_bonus,
        points_redeemed=sale.points_redeemed,
        status_after=status,
    )
    return Receipt(sale.sale_id, sale.ts, sale.member_id, rebuilt, balance, replayed=True)


# -- returns --------------------------------------------------------------------------------


def record_return(
    db: Database,
    program: Program,
    sale_id: str,
    items: list[BasketLine],
    at: datetime,
    return_id: str | None = None,
) -> ReturnReceipt:
    """Return units of a recorded sale: refund what was paid, take back stamps and points."""
    if not items:
        raise LedgerError("name at least one item to return")
    with write(db):
        if return_id is not None:
            existing = load_sale(db, return_id)
            if existing is not None:
                if existing.kind != "return" or existing.original_sale_id != sale_id:
                    raise LedgerError(f"return id {return_id} is already used; nothing was written")
                return _return_receipt(db, program, existing)
        sale = load_sale(db, sale_id)
        if sale is None:
            raise LedgerError(f"unknown sale {sale_id!r}")
        if sale.kind != "sale":
            raise LedgerError(f"{sale_id} is a return, not a sale")
        if at < sale.ts:
            raise LedgerError(f"a return cannot be dated before its sale ({ts_text(sale.ts)})")
        taken = _allocate_return(sale, items)
        returned = []
        for line, qty in taken:
            refund = share(line.total, line.returned_qty + qty, line.qty) - share(line.total, line.returned_qty, line.qty)
            returned.append((line, qty, refund))
        return_id = return_id or _next_return_id(db, sale_id)
        before = None
        if sale.member_id is not None:
            before = member_status(program, load_member_facts(db, sale.member_id), at)
        _insert_return(db, sale, return_id, at, returned)
        receipt = ReturnReceipt(
            return_id,
            sale_id,
            at,
            tuple(ReturnedLine(line.product_id, qty, refund, line.line_no) for line, qty, refund in returned),
            0,
            0,
            None,
        )
        if sale.member_id is None:
            return receipt
        clawed, restored, points = _return_points(db, program, sale, returned, return_id, at)
        after = member_status(program, load_member_facts(db, sale.member_id), at)
        _write_events(db, at, list(status_events(before, after)), "return", return_id)
        _bump_summary(db, sale.member_id, None, refunds=receipt.refund_total, points=points)
    return replace(receipt, points_clawed_back=clawed, points_restored=restored, status_after=after)


def _allocate_return(sale: SaleRecord, items: list[BasketLine]) -> list[tuple]:
    """Map ``product:qty`` items onto the sale's lines, paid units first, refusing more than is left."""
    left = {line.line_no: line.returnable for line in sale.lines}
    taken: dict[int, int] = {}
    for item in items:
        if item.qty < 1:
            raise LedgerError(f"{item.product_id}: quantity to return must be at least 1")
        candidates = [line for line in sale.lines if line.product_id == item.product_id]
        if not candidates:
            raise LedgerError(f"sale {sale.sale_id} has no {item.product_id!r}")
        need = item.qty
        for line in sorted(candidates, key=lambda l: (l.free_units > 0, l.line_no)):
            take = min(need, left[line.line_no])
            if take:
                left[line.line_no] -= take
                taken[line.line_no] = taken.get(line.line_no, 0) + take
                need -= take
        if need:
            available = sum(line.returnable for line in candidates)
            raise LedgerError(
                f"cannot return {item.qty} x {item.product_id} from sale {sale.sale_id}: "
                f"{available} bought and not yet returned"
            )
    by_no = {line.line_no: line for line in sale.lines}
    return [(by_no[no], qty) for no, qty in sorted(taken.items())]


def _next_return_id(db: Database, sale_id: str) -> str:
    count = db.execute("SELECT count(*) FROM sales WHERE original_sale_id = ?", [sale_id]).fetchone()[0]
    return f"{sale_id}-R{count + 1}"


def _insert_return(db: Database, sale: SaleRecord, return_id: str, at: datetime, returned) -> None:
    ts = ts_text(at)
    subtotal = sum(
        share(line.list_amount, line.returned_qty + qty, line.qty) - share(line.list_amount, line.returned_qty, line.qty)
        for line, qty, _ in returned
    )
    refund = sum(r for _, _, r in returned)
    insert_into(db, "sales")(
        {
            "sale_id": return_id,
            "ts": ts,
            "member_id": sale.member_id,
            "kind": "return",
            "original_sale_id": sale.sale_id,
            "discount_code": None,
            "subtotal": subtotal,
            "discount_total": subtotal - refund,
            "total": refund,
            "source": "till",
        }
    )
    insert_into(db, "sale_lines")(
        {
            "sale_id": return_id,
            "line_no": line_no,
            "member_id": sale.member_id,
            "ts": ts,
            "kind": "return",
            "product_id": line.product_id,
            "qty": qty,
            "unit_price": line.unit_price,
            "list_amount": share(line.list_amount, line.returned_qty + qty, line.qty)
            - share(line.list_amount, line.returned_qty, line.qty),
            "free_units": qty if line.free_units else 0,
            "total": refund_amount,
            "original_line_no": line.line_no,
        }
        for line_no, (line, qty, refund_amount) in enumerate(returned, start=1)
    )


def _return_points(db: Database, program: Program, sale: SaleRecord, returned, return_id: str, at: datetime):
    """Claw back what the returned units earned; give back points they were paid with.

    Returns (points clawed back, points restored, the points all its movements add)."""
    rules = program.points
    if rules is None:
        return 0, 0, 0
    refund = sum(r for _, _, r in returned)
    refunded_before = sale.refunded
    returning = {line.line_no: qty for line, qty, _ in returned}
    fully_returned = all(line.returned_qty + returning.get(line.line_no, 0) == line.qty for line in sale.lines)
    clawed = clawback(sale.points_earned, sale.points_bonus, sale.total, refunded_before, refund, fully_returned)
    value_total = sum(line.points_discount for line in sale.lines)
    value_before = sum(
        share(line.points_discount, line.returned_qty, line.qty) for line in sale.lines
    )
    value_now = sum(
        share(line.points_discount, line.returned_qty + qty, line.qty)
        - share(line.points_discount, line.returned_qty, line.qty)
        for line, qty, _ in returned
    )
    restored = restore(sale.points_redeemed, value_total, value_before, value_now)
    lapsed = expire_lapsed(db, program, sale.member_id, at)
    rows = []
    if clawed:
        rows.append(("clawback", -clawed, None, f"return {return_id}"))
    if restored:
        exp = expiry_for(rules, at)
        rows.append(("restore", restored, ts_text(exp) if exp else None, f"return {return_id}"))
    return clawed, restored, _insert_movements(db, sale.member_id, at, rows, return_id) - lapsed


def _return_receipt(db: Database, program: Program, record: SaleRecord) -> ReturnReceipt:
    status = None
    if record.member_id is not None:
        status = member_status(program, load_member_facts(db, record.member_id), record.ts)
    moves = db.execute(
        "SELECT kind, sum(points) FROM point_movements WHERE sale_id = ? GROUP BY kind", [record.sale_id]
    ).fetchall()
    by_kind = dict(moves)
    return ReturnReceipt(
        record.sale_id,
        record.original_sale_id or "",
        record.ts,
        tuple(ReturnedLine(l.product_id, l.qty, l.total, l.line_no) for l in record.lines),
        -by_kind.get("clawback", 0),
        by_kind.get("restore", 0),
        status,
    )


# -- members ------------------------------------------------------------------------------


def add_member(
    db: Database,
    program: Program,
    member_id: str,
    at: datetime,
    *,
    name: str = "",
    email: str | None = None,
    phone: str | None = None,
    birthday: str | None = None,
    join: bool = True,
) -> None:
    """Enrol a member: their details, their first join, and the sign-up bonus."""
    member_id = member_id.strip()
    if not member_id:
        raise LedgerError("a member needs an id")
    if birthday:
        try:
            birthday = parse_day(birthday).isoformat()
        except TimestampError as exc:
            raise LedgerError(f"birthday: {exc}") from None
    try:
        email, phone = email_address(email), phone_number(phone)
    except ContactError as exc:
        raise LedgerError(str(exc)) from None
    with write(db):
        if member_exists(db, member_id):
            raise LedgerError(f"member {member_id!r} already exists")
        db["members"].insert(
            {
                "member_id": member_id,
                "name": name,
                "email": email,
                "phone": phone,
                "birthday": birthday,
                "created_at": ts_text(at),
            }
        )
        if join:
            change_membership(db, program, member_id, at, "active")


def change_membership(db: Database, program: Program, member_id: str, at: datetime, status: str) -> None:
    """Join, resign or rejoin; the first join earns the sign-up bonus."""
    if status not in ("active", "resigned"):
        raise LedgerError(f"membership status must be active or resigned, not {status!r}")
    with write(db):
        facts = load_member_facts(db, member_id)
        if facts is None:
            raise LedgerError(f"unknown member {member_id!r}")
        if facts.memberships and facts.memberships[-1].ts > at:
            raise LedgerError(f"{member_id}: a membership change cannot be dated before the last one")
        active = facts.is_active(at)
        if status == "active" and active:
            raise LedgerError(f"{member_id} is already an active member")
        if status == "resigned" and not active:
            raise LedgerError(f"{member_id} is not an active member")
        first_join = status == "active" and facts.first_join() is None
        before = member_status(program, facts, at)
        insert_into(db, "memberships")({"member_id": member_id, "ts": ts_text(at), "status": status})
        points = 0
        if first_join and program.points and program.points.signup_bonus:
            exp = expiry_for(program.points, at)
            rows = [("bonus", program.points.signup_bonus, ts_text(exp) if exp else None, "sign-up")]
            points = _insert_movements(db, member_id, at, rows)
        _bump_summary(db, member_id, None, points=points)
        after = member_status(program, load_member_facts(db, member_id), at)
        kind = "joined" if first_join else ("rejoined" if status == "active" else "resigned")
        _write_events(db, at, [Event(f"member_{kind}", member_id, {})] + list(status_events(before, after)), "membership", member_id)


def erase_member(db: Database, member_id: str, at: datetime) -> None:
    """Erase a member's personal data (name, e-mail, phone, birthday); amounts and history stay.

    The erasure itself is recorded. With ``secure_delete`` on, the old values are overwritten
    in the file, and the WAL is checkpointed so no copy of them lingers there.
    """
    with write(db):
        row = db.execute("SELECT erased_at FROM members WHERE member_id = ?", [member_id]).fetchone()
        if row is None:
            raise LedgerError(f"unknown member {member_id!r}")
        if row[0] is not None:
            raise LedgerError(f"{member_id}'s personal data was already erased on {row[0]}")
        db.execute(
            "UPDATE members SET name = NULL, email = NULL, phone = NULL, birthday = NULL, erased_at = ?"
            " WHERE member_id = ?",
            [ts_text(at), member_id],
        )
        insert_into(db, "erasures")({"member_id": member_id, "ts": ts_text(at)})
        # The name index only marks the old words deleted; merging its segments drops them.
        db.execute(f"INSERT INTO {NAME_INDEX} ({NAME_INDEX}) VALUES ('optimize')")
        _write_events(db, at, [Event("member_erased", member_id, {})], "erasure", member_id)
    if not db.memory:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def adjust_points(db: Database, program: Program, member_id: str, points: int, reason: str, at: datetime) -> int:
    """A manager's correction of a member's points, with the reason recorded; returns the new balance."""
    if program.points is None:
        raise LedgerError("this programme has no points")
    if not reason.strip():
        raise LedgerError("a points adjustment needs a reason")
    if points == 0:
        raise LedgerError("a points adjustment of 0 changes nothing")
    if abs(points) > 10**9:
        raise LedgerError("a points adjustment is at most a billion points either way")
    with write(db):
        if not member_exists(db, member_id):
            raise LedgerError(f"unknown member {member_id!r}")
        lapsed = expire_lapsed(db, program, member_id, at)
        before = member_status(program, load_member_facts(db, member_id), at)
        exp = expiry_for(program.points, at) if points > 0 else None
        added = _insert_movements(db, member_id, at, [("adjust", points, ts_text(exp) if exp else None, reason.strip())])
        _bump_summary(db, member_id, None, points=added - lapsed)
        after = member_status(program, load_member_facts(db, member_id), at)
        _write_events(db, at, list(status_events(before, after)), "adjustment", member_id)
        return after.points.balance


# -- codes ------------------------------------------------------------------------------


def issue_codes(
    db: Database, count: int, at: datetime, *, max_percent: int = 50, step: int = 5, rng=None
) -> list[tuple[str, Fraction]]:
    """Issue ``count`` unique single-use codes worth a random percentage on a step up to the maximum."""
    if not 1 <= max_percent <= 50:
        raise LedgerError("the maximum percentage must be between 1 and 50")
    if not 1 <= step <= max_percent:
        raise LedgerError("the step must be between 1 and the maximum percentage")
    if count < 1:
        raise LedgerError("issue at least one code")
    rng = rng or secrets.SystemRandom()
    choices = list(range(step, max_percent + 1, step))
    issued = []
    with write(db):
        while len(issued) < count:
            percent = rng.choice(choices)
            code = "".join(rng.choice(CODE_ALPHABET) for _ in range(7))
            if db.execute("SELECT 1 FROM codes WHERE code = ?", [code]).fetchone():
                continue
            db["codes"].insert({"code": code, "percent": str(percent), "issued_at": ts_text(at)})
            issued.append((code, Fraction(percent)))
    return issued


def quote_for(db: Database, program: Program, basket: Basket, at: datetime, code: str | None = None) -> Quote:
    """Price a basket without writing anything (what the counter shows as lines are added)."""
    facts = None
    if basket.member_id is not None:
        facts = load_member_facts(db, basket.member_id)
        if facts is None:
            raise LedgerError(f"unknown member {basket.member_id!r}")
    if code:
        basket = replace(basket, code=_usable_code(db, code))
    catalogue = _priced_catalogue(db, basket, at)
    try:
        return quote(program, facts, basket, catalogue, at)
    except QuoteError as exc:
        raise LedgerError(str(exc)) from None
