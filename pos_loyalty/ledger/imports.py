"""Saving imported history: natural ids, re-imports change nothing, conflicts are refused."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sqlite_utils import Database

from ..engine import Program
from ..engine.money import format_number, parse_number, percent_of, share
from ..engine.points import expiry_for
from .reads import load_sale
from .timestamps import ts_text

EPOCH = datetime(1970, 1, 1)
"""The start of a catalogue price given without ``valid_from``."""


class RowError(ValueError):
    """One imported row is wrong; ``field`` names the column."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class MemberRecord:
    member_id: str
    name: str
    email: str | None
    phone: str | None
    joined_at: datetime | None
    birthday: str | None


@dataclass(frozen=True, slots=True)
class ProductRecord:
    product_id: str
    name: str
    category: str | None
    price: int
    valid_from: datetime | None


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    member_id: str
    ts: datetime
    status: str


@dataclass(frozen=True, slots=True)
class CodeRecord:
    code: str
    percent: Fraction


@dataclass(frozen=True, slots=True)
class SaleLineRecord:
    """One line of an imported sale or return; a sale is its consecutive lines with one id."""

    sale_id: str
    ts: datetime
    member_id: str | None
    product_id: str
    qty: int
    unit_price: int | None
    line_amount: int | None
    kind: str
    original_sale_id: str | None
    discount_code: str | None


@dataclass
class ImportCounts:
    """What an import read, wrote and left as it was."""

    read: int = 0
    written: int = 0
    unchanged: int = 0


class Saver:
    """Writes validated records inside the caller's transaction; raises RowError on conflicts."""

    def __init__(self, db: Database, program: Program):
        self.db = db
        self.program = program
        self.counts = ImportCounts()
        self.touched_members: set[str] = set()

    # -- members ------------------------------------------------------------------------

    def member(self, rec: MemberRecord) -> None:
        row = self.db.execute(
            "SELECT name, email, phone, birthday FROM members WHERE member_id = ?", [rec.member_id]
        ).fetchone()
        if row is not None:
            if tuple(v or None for v in row) != (rec.name or None, rec.email, rec.phone, rec.birthday):
                raise RowError("member_id", f"member {rec.member_id!r} already exists with other details")
            first = self.db.execute(
                "SELECT min(ts) FROM memberships WHERE member_id = ? AND status = 'active'", [rec.member_id]
            ).fetchone()[0]
            if rec.joined_at is not None and first is not None and first != ts_text(rec.joined_at):
                raise RowError("joined_at", f"member {rec.member_id!r} first joined at {first}")
            self.counts.unchanged += 1
            return
        created = rec.joined_at or EPOCH
        self.db["members"].insert(
            {
                "member_id": rec.member_id,
                "name": rec.name,
                "email": rec.email,
                "phone": rec.phone,
                "birthday": rec.birthday,
                "created_at": ts_text(created),
            }
        )
        if rec.joined_at is not None:
            self._join(rec.member_id, rec.joined_at, first=True)
        self.counts.written += 1

    def _join(self, member_id: str, at: datetime, first: bool) -> None:
        self.db["memberships"].insert({"member_id": member_id, "ts": ts_text(at), "status": "active"})
        points = self.program.points
        if first and points and points.signup_bonus:
            exp = expiry_for(points, at)
            self.db["point_movements"].insert(
                {
                    "member_id": member_id,
                    "ts": ts_text(at),
                    "kind": "bonus",
                    "points": points.signup_bonus,
                    "expires_at": ts_text(exp) if exp else None,
                    "reason": "sign-up",
                }
            )
        self.touched_members.add(member_id)

    def membership(self, rec: MembershipRecord) -> None:
        if rec.status not in ("active", "resigned"):
            raise RowError("status", f"status must be active or resigned, not {rec.status!r}")
        if not self._member_known(rec.member_id):
            raise RowError("member_id", f"unknown member {rec.member_id!r}")
        history = self.db.execute(
            "SELECT ts, status FROM memberships WHERE member_id = ? ORDER BY ts, id", [rec.member_id]
        ).fetchall()
        if (ts_text(rec.ts), rec.status) in history:
            self.counts.unchanged += 1
            return
        if history and history[-1][0] > ts_text(rec.ts):
            raise RowError("ts", f"{rec.member_id}: membership changes must come in time order (last {history[-1][0]})")
        current = history[-1][1] if history else "resigned"
        if current == rec.status:
            raise RowError("status", f"{rec.member_id} is already {'an active member' if current == 'active' else 'not a member'}")
        if rec.status == "active":
            self._join(rec.member_id, rec.ts, first=not any(s == "active" for _, s in history))
        else:
            self.db["memberships"].insert({"member_id": rec.member_id, "ts": ts_text(rec.ts), "status": rec.status})
        self.counts.written += 1

    def _member_known(self, member_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM members WHERE member_id = ?", [member_id]).fetchone() is not None

    # -- catalogue and codes --------------------------------------------------------------

    def product(self, rec: ProductRecord) -> None:
        row = self.db.execute("SELECT name, category FROM products WHERE product_id = ?", [rec.product_id]).fetchone()
        valid_from = ts_text(rec.valid_from or EPOCH)
        if row is None:
            self.db["products"].insert({"product_id": rec.product_id, "name": rec.name, "category": rec.category})
        elif (row[0], row[1] or None) != (rec.name, rec.category):
            self.db["products"].update(rec.product_id, {"name": rec.name, "category": rec.category})
        price = self.db.execute(
            "SELECT price FROM prices WHERE product_id = ? AND valid_from = ?", [rec.product_id, valid_from]
        ).fetchone()
        if price is not None:
            if price[0] != rec.price:
                raise RowError("price", f"{rec.product_id} already has another price from {valid_from}; give a new valid_from")
            self.counts.unchanged += 1
            return
        self.db["prices"].insert({"product_id": rec.product_id, "valid_from": valid_from, "price": rec.price})
        self.counts.written += 1

    def code(self, rec: CodeRecord) -> None:
        if not 0 < rec.percent <= 50:
            raise RowError("percent", "a code is worth more than 0 and at most 50 percent")
        row = self.db.execute("SELECT percent FROM codes WHERE code = ?", [rec.code]).fetchone()
        if row is not None:
            if parse_number(row[0]) != rec.percent:
                raise RowError("code", f"code {rec.code} already exists with {row[0]} %")
            self.counts.unchanged += 1
            return
        self.db["codes"].insert({"code": rec.code, "percent": format_number(rec.percent), "issued_at": ts_text(EPOCH)})
        self.counts.written += 1

    # -- sales --------------------------------------------------------------------------

    def sale(self, lines: list[SaleLineRecord]) -> None:
        """Save one imported sale or return (all its lines); the same sale again changes nothing."""
        head = lines[0]
        for line in lines[1:]:
            for field in ("ts", "member_id", "kind", "original_sale_id", "discount_code"):
                if getattr(line, field) != getattr(head, field):
                    raise RowError(field, f"sale {head.sale_id}: {field} differs between its lines")
        if head.member_id is not None and not self._member_known(head.member_id):
            raise RowError("member_id", f"unknown member {head.member_id!r}")
        existing = load_sale(self.db, head.sale_id)
        if existing is not None:
            self._same_sale(existing, head, lines)
            self.counts.unchanged += len(lines)
            return
        priced = [self._price(line) for line in lines]
        if head.kind == "sale":
            rows, discounts, code = self._sale_lines(head, priced)
        else:
            rows, discounts, code = self._return_lines(head, priced)
        subtotal = sum(r["list_amount"] for r in rows)
        total = sum(r["total"] for r in rows)
        ts = ts_text(head.ts)
        self.db["sales"].insert(
            {
                "sale_id": head.sale_id,
                "ts": ts,
                "member_id": head.member_id,
                "kind": head.kind,
                "original_sale_id": head.original_sale_id,
                "discount_code": code,
                "subtotal": subtotal,
                "discount_total": subtotal - total,
                "total": total,
                "source": "import",
            }
        )
        for line_no, row in enumerate(rows, start=1):
            row.update(sale_id=head.sale_id, line_no=line_no, member_id=head.member_id, ts=ts)
        self.db["sale_lines"].insert_all(rows)
        self.db["line_discounts"].insert_all(
            {"sale_id": head.sale_id, "line_no": line_no, "seq": 1, "reason": "code", "amount": amount, "detail": detail}
            for line_no, amount, detail in discounts
        )
        if code is not None:
            self.db["code_redemptions"].insert({"code": code, "sale_id": head.sale_id, "ts": ts})
        if head.member_id is not None:
            self.touched_members.add(head.member_id)
        self.counts.written += len(lines)

    @staticmethod
    def _same_sale(existing, head: SaleLineRecord, lines: list[SaleLineRecord]) -> None:
        """A re-imported sale must be the one recorded: same kind, member, time and units."""
        recorded, given = Counter(), Counter()
        for sold in existing.lines:
            recorded[sold.product_id] += sold.qty
        for line in lines:
            given[line.product_id] += line.qty
        if (existing.kind, existing.member_id, existing.ts, recorded) != (head.kind, head.member_id, head.ts, given):
            raise RowError("sale_id", f"sale {head.sale_id} already exists with other contents")

    def _price(self, line: SaleLineRecord) -> tuple[SaleLineRecord, int | None, int | None]:
        """(line, unit price, amount): the amount given, or unit price x qty, or the catalogue's."""
        known = self.db.execute("SELECT 1 FROM products WHERE product_id = ?", [line.product_id]).fetchone()
        if known is None:
            raise RowError("product_id", f"unknown product {line.product_id!r}")
        if line.line_amount is not None:
            unit = share(line.line_amount, 1, line.qty)
            return line, unit, line.line_amount
        if line.unit_price is not None:
            return line, line.unit_price, line.unit_price * line.qty
        if line.kind == "return" and line.original_sale_id is not None:
            return line, None, None  # refunded at what was paid, below
        row = self.db.execute(
            "SELECT price FROM prices WHERE product_id = ? AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1",
            [line.product_id, ts_text(line.ts)],
        ).fetchone()
        if row is None:
            raise RowError("unit_price", f"{line.product_id} has no catalogue price at {ts_text(line.ts)}")
        return line, row[0], row[0] * line.qty

    def _sale_lines(self, head: SaleLineRecord, priced):
        code = None
        percent = None
        if head.original_sale_id is not None:
            raise RowError("original_sale_id", "only a return references an original sale")
        if head.discount_code is not None:
            code = head.discount_code
            row = self.db.execute("SELECT percent FROM codes WHERE code = ?", [code]).fetchone()
            if row is None:
                raise RowError("discount_code", f"unknown discount code {code!r}")
            used = self.db.execute("SELECT sale_id FROM code_redemptions WHERE code = ?", [code]).fetchone()
            if used is not None and used[0] != head.sale_id:
                raise RowError("discount_code", f"discount code {code} was already used by sale {used[0]}")
            percent = parse_number(row[0])
        rows, discounts = [], []
        for line_no, (line, unit, amount) in enumerate(priced, start=1):
            cut = percent_of(amount, percent) if percent is not None else 0
            if cut:
                discounts.append((line_no, cut, f"{code} {format_number(percent)}%"))
            rows.append(self._row(line, unit, amount, amount - cut, None))
        return rows, discounts, code

    def _return_lines(self, head: SaleLineRecord, priced):
        if head.discount_code is not None:
            raise RowError("discount_code", "a return does not redeem a discount code")
        if head.original_sale_id is None:
            rows = []
            for line, unit, amount in priced:
                rows.append(self._row(line, unit, amount, amount, None))
            return rows, [], None
        original = load_sale(self.db, head.original_sale_id)
        if original is None or original.kind != "sale":
            raise RowError("original_sale_id", f"unknown sale {head.original_sale_id!r}")
        if original.member_id != head.member_id:
            raise RowError("member_id", f"sale {original.sale_id} belongs to {original.member_id or 'no member'}")
        if head.ts < original.ts:
            raise RowError("ts", f"a return cannot be dated before its sale ({ts_text(original.ts)})")
        left = {l.line_no: l.returnable for l in original.lines}
        rows = []
        for line, unit, amount in priced:
            need = line.qty
            for sold in original.lines:
                if sold.product_id != line.product_id or need == 0:
                    continue
                take = min(need, left[sold.line_no])
                if not take:
                    continue
                returned_before = sold.qty - left[sold.line_no]
                left[sold.line_no] -= take
                need -= take
                refund = amount if amount is not None and take == line.qty else None
                if refund is None:
                    refund = share(sold.total, returned_before + take, sold.qty) - share(sold.total, returned_before, sold.qty)
                listed = share(sold.list_amount, returned_before + take, sold.qty) - share(
                    sold.list_amount, returned_before, sold.qty
                )
                rows.append(
                    self._row(line, sold.unit_price, listed, refund, sold.line_no, qty=take,
                              free=take if sold.free_units else 0)
                )
            if need:
                raise RowError("qty", f"cannot return {line.qty} x {line.product_id}: more than sale {original.sale_id} has left")
        return rows, [], None

    @staticmethod
    def _row(line: SaleLineRecord, unit: int, listed: int, total: int, original_line: int | None,
             qty: int | None = None, free: int = 0):
        return {
            "product_id": line.product_id,
            "qty": qty if qty is not None else line.qty,
            "unit_price": unit,
            "list_amount": listed,
            "free_units": free,
            "total": total,
            "original_line_no": original_line,
        }

    # -- cache --------------------------------------------------------------------------

    def refresh_summaries(self) -> None:
        """Recompute the cached totals of every member this import touched."""
        from .verify import rebuild_summary

        rebuild_summary(self.db, sorted(self.touched_members))
