"""Exporting members, memberships, products, codes, sales and statuses as csv, json or jsonl, streamed row by row."""

from __future__ import annotations

import csv
import json
import shlex
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TextIO

from sqlite_utils import Database

from ..engine import Program, member_status
from ..ledger import load_member_facts, ts_text
from ..views import money, status_json

EXPORTS = ("members", "memberships", "products", "codes", "sales", "status", "events")
PERSONAL = ("email", "phone", "birthday")


def member_rows(db: Database, program: Program, as_of: datetime, personal: bool = False) -> Iterator[dict]:
    """Members in the import layout; e-mail, phone and birthday only when asked for."""
    for member_id, name, email, phone, birthday, joined in db.execute(
        """
        SELECT m.member_id, m.name, m.email, m.phone, m.birthday,
               (SELECT min(ts) FROM memberships j WHERE j.member_id = m.member_id AND j.status = 'active')
          FROM members m ORDER BY m.member_id
        """
    ):
        row = {"member_id": member_id, "name": name, "joined_at": joined}
        if personal:
            row.update(email=email, phone=phone, birthday=birthday)
        yield row


def membership_rows(db: Database, program: Program, as_of: datetime, personal: bool = False) -> Iterator[dict]:
    """Every join and resignation up to ``as_of``, in the import layout: with the members file it
    carries who was a member when, which ``joined_at`` alone cannot (a resignation, a rejoin)."""
    for member_id, ts, status in db.execute(
        "SELECT member_id, ts, status FROM memberships WHERE ts <= ? ORDER BY member_id, ts, id", [ts_text(as_of)]
    ):
        yield {"member_id": member_id, "ts": ts, "status": status}


def product_rows(db: Database, program: Program, as_of: datetime, personal: bool = False) -> Iterator[dict]:
    """Every price a product has had, in the import layout (so the file re-imports as it was); a
    product with no catalogue price (one only imported history names) once, its price blank."""
    for product_id, name, category, price, valid_from in db.execute(
        """
        SELECT p.product_id, p.name, p.category, r.price, r.valid_from
          FROM products p LEFT JOIN prices r ON r.product_id = p.product_id
         ORDER BY p.product_id, r.valid_from
        """
    ):
        yield {
            "product_id": product_id,
            "name": name,
            "category": category,
            "price": None if price is None else money(program, price),
            "valid_from": valid_from,
        }


def code_rows(db: Database, program: Program, as_of: datetime, personal: bool = False) -> Iterator[dict]:
    """The discount codes issued up to ``as_of``, in the import layout (the sales that redeemed them
    carry the code, and their import redeems it again)."""
    for code, percent in db.execute(
        "SELECT code, percent FROM codes WHERE issued_at <= ? ORDER BY code", [ts_text(as_of)]
    ):
        yield {"code": code, "percent": percent}


def sale_rows(db: Database, program: Program, as_of: datetime, personal: bool = False) -> Iterator[dict]:
    """One row per sale line, with what was listed, discounted and paid: the sales import's layout
    with ``list_amount``, ``discount``, ``total``, each discount with its reason, the units given
    free and a return line's line of its sale beside the unit price, which it takes back."""
    for row in db.execute(
        f"""
        SELECT s.sale_id, s.ts, s.member_id, l.product_id, l.qty, l.unit_price, l.list_amount,
               l.list_amount - l.total, l.total, {LINE_DISCOUNTS_SQL}, l.free_units, l.original_line_no,
               s.kind, s.original_sale_id, s.discount_code, s.source
          FROM sales s JOIN sale_lines l ON l.sale_id = s.sale_id
         WHERE s.ts <= ?
         ORDER BY s.ts, s.sale_id, l.line_no
        """,
        [ts_text(as_of)],
    ):
        (sale_id, ts, member, product, qty, unit, listed, discount, total, discounts, free, line_no, kind, original,
         code, source) = row
        yield {
            "sale_id": sale_id,
            "ts": ts,
            "member_id": member,
            "product_id": product,
            "qty": qty,
            "unit_price": money(program, unit),
            "list_amount": money(program, listed),
            "discount": money(program, discount),
            "total": money(program, total),
            "discounts": discounts and _discounts_text(program, discounts),
            "free_units": free,
            "kind": kind,
            "original_sale_id": original,
            "original_line_no": line_no,
            "discount_code": code,
            "source": source,
        }


LINE_DISCOUNTS_SQL = """(SELECT group_concat(reason || char(31) || amount || char(31) || coalesce(detail, ''), char(30))
                           FROM (SELECT reason, amount, detail FROM line_discounts d
                                  WHERE d.sale_id = l.sale_id AND d.line_no = l.line_no ORDER BY seq))"""
"""A line's discounts in one cell, in their order: fields apart by the unit separator, discounts by the record separator."""


def _discounts_text(program: Program, joined: str) -> str:
    """``tier 0.76 'SILVER 5%'``: each discount's reason, amount and detail, shell-quoted, as the
    sales import reads them back (``importers.discounts_cell``)."""
    words = []
    for discount in joined.split("\x1e"):
        reason, amount, detail = discount.split("\x1f")
        words += (reason, money(program, int(amount)), shlex.quote(detail))
    return " ".join(words)


def status_rows(db: Database, program: Program, as_of: datetime, personal: bool = False) -> Iterator[dict]:
    """Every member's status as of an instant (nested as the ``status`` command prints it)."""
    for (member_id,) in db.execute("SELECT member_id FROM members ORDER BY member_id"):
        yield status_json(program, member_status(program, load_member_facts(db, member_id), as_of))


def event_rows(db: Database, after: int = 0) -> Iterator[dict]:
    """The outbox as a stream, oldest first, from just after ``after`` (a consumer's cursor).

    Writes are serialised by SQLite and the outbox is append-only, so ids only grow: a consumer
    that remembers the last id it handled resumes exactly where it stopped.
    """
    for event_id, ts, member_id, kind, payload, cause_kind, cause_id in db.execute(
        """
        SELECT event_id, ts, member_id, kind, payload, cause_kind, cause_id
          FROM outbox WHERE event_id > ? ORDER BY event_id
        """,
        [after],
    ):
        yield {
            "event_id": event_id,
            "ts": ts,
            "member_id": member_id,
            "kind": kind,
            "payload": json.loads(payload),
            "cause": {"kind": cause_kind, "id": cause_id},
        }


def flatten_event(row: dict) -> dict:
    """An event as one flat CSV row (the payload stays JSON)."""
    return {
        **{k: row[k] for k in ("event_id", "ts", "member_id", "kind")},
        "payload": json.dumps(row["payload"], sort_keys=True),
        "cause_kind": row["cause"]["kind"],
        "cause_id": row["cause"]["id"],
    }


def flatten_status(row: dict) -> dict:
    """A status as one flat CSV row."""
    tier = row["tier"] or {}
    points = row["points"] or {}
    flat = {
        "member_id": row["member_id"],
        "name": row["name"],
        "active": "yes" if row["active"] else "no",
        "tier": tier.get("name"),
        "tier_rank": tier.get("rank"),
        "tier_basis": tier.get("basis"),
        "next_tier": tier.get("next"),
        "to_next": tier.get("to_next"),
        "promotions": " ".join(p["name"] for p in row["promotions"]),
        "points_balance": points.get("balance"),
    }
    for card in row["stamp_cards"]:
        flat[f"{card['name']}_stamps"] = card["count"]
        flat[f"{card['name']}_next_free"] = "yes" if card["next_free"] else "no"
    return flat


ROWS = {
    "members": member_rows,
    "memberships": membership_rows,
    "products": product_rows,
    "codes": code_rows,
    "sales": sale_rows,
    "status": status_rows,
}

_HEADERS = {
    "members": ("member_id", "name", "joined_at"),
    "memberships": ("member_id", "ts", "status"),
    "products": ("product_id", "name", "category", "price", "valid_from"),
    "codes": ("code", "percent"),
    "sales": (
        "sale_id", "ts", "member_id", "product_id", "qty", "unit_price", "list_amount", "discount", "total",
        "discounts", "free_units", "kind", "original_sale_id", "original_line_no", "discount_code", "source",
    ),
    "status": (
        "member_id", "name", "active", "tier", "tier_rank", "tier_basis", "next_tier", "to_next", "promotions",
        "points_balance",
    ),
    "events": ("event_id", "ts", "member_id", "kind", "payload", "cause_kind", "cause_id"),
}


def csv_header(kind: str, program: Program, personal: bool = False) -> list[str]:
    """The columns of a CSV export, known before its first row: an export with no rows is still a
    CSV file with its header, which a script reading it by column names can take."""
    header = list(_HEADERS[kind])
    if kind == "members" and personal:
        header += PERSONAL
    if kind == "status":
        for card in program.stamp_cards:
            header += [f"{card.name}_stamps", f"{card.name}_next_free"]
    return header


def write_rows(rows: Iterable[dict], out: TextIO, fmt: str, flatten=None, header: list[str] | None = None) -> int:
    """Write rows as csv, a json list, or jsonl; returns the count.

    The CSV header is ``header`` (written even when there are no rows), else the first row's keys.
    """
    count = 0
    if fmt == "json":
        out.write("[")
        for count, row in enumerate(rows, start=1):
            out.write(("\n  " if count == 1 else ",\n  ") + json.dumps(row, ensure_ascii=False))
        out.write("\n]\n" if count else "]\n")
        return count
    if fmt == "jsonl":
        for count, row in enumerate(rows, start=1):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return count
    writer = None
    if header is not None:
        writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
        writer.writeheader()
    for count, row in enumerate(rows, start=1):
        if flatten is not None:
            row = flatten(row)
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row), lineterminator="\n")
            writer.writeheader()
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return count
