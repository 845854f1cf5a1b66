"""Helpers shared by the tests: fixture paths, ledgers built from the fixtures, and an
independent plain-SQL reading of a member that the engine's answers are compared with."""

from __future__ import annotations

import csv
import hashlib
import sqlite3
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from sqlite_utils import Database

from pos_loyalty import ledger
from pos_loyalty.engine import Program
from pos_loyalty.io.importers import import_file

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
PROGRAMS = FIXTURES / "programs"


def program_text(name: str) -> str:
    return (PROGRAMS / f"{name}.toml").read_text(encoding="utf-8")


def new_ledger(program_name: str, path: Path | None = None) -> tuple[Database, Program]:
    """A fresh ledger (in memory, or a file) running one of the shipped programmes."""
    db = ledger.connect(path) if path is not None else ledger.memory()
    program = ledger.set_program(db, program_text(program_name), f"{program_name}.toml")
    return db, program


def import_fixture(db: Database, program: Program, folder: str, files: list[tuple[str, str]]) -> None:
    for kind, name in files:
        import_file(db, program, kind, FIXTURES / folder / name)


COFFEE_FILES = [("products", "products.csv"), ("members", "members.csv"), ("sales", "sales.csv")]
TIERED_FILES = [
    ("products", "products.csv"),
    ("members", "members.csv"),
    ("memberships", "memberships.csv"),
    ("sales", "sales.csv"),
]
DISCOUNT_FILES = [("products", "products.csv"), ("codes", "codes.csv"), ("sales", "sales.csv")]


def coffee_ledger(with_dog: bool = True) -> tuple[Database, Program]:
    db, program = new_ledger("coffee_shop")
    files = COFFEE_FILES + ([("sales", "sales_dog.csv")] if with_dog else [])
    import_fixture(db, program, "coffee_shop", files)
    return db, program


def tiered_ledger() -> tuple[Database, Program]:
    db, program = new_ledger("tiered_pln")
    import_fixture(db, program, "tiered_pln", TIERED_FILES)
    return db, program


def discount_ledger() -> tuple[Database, Program]:
    db, program = new_ledger("coffee_shop")
    import_fixture(db, program, "discounting", DISCOUNT_FILES)
    return db, program


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def cents(text: str) -> int:
    """Decimal text to minor units, independently of the package's parser."""
    value = Decimal(text) * 100
    assert value == value.to_integral_value(), text
    return int(value)


def half_up(value: Fraction | Decimal, places: int = 0) -> Decimal:
    """Round half-up with Decimal, independently of the package's rounding."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def dump(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table (the search index's own tables included), to show that an
    operation wrote nothing."""
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {table: table_rows(db.conn, table) for table in tables}


def ledger_digest(path: Path) -> str:
    """A digest of every row of every table of a ledger file: equal digests, same ledger."""
    conn = sqlite3.connect(path)
    try:
        digest = hashlib.sha256()
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            for row in table_rows(conn, table):
                digest.update(repr(row).encode())
        return digest.hexdigest()
    finally:
        conn.close()


def table_rows(conn, table: str) -> list[tuple]:
    """A table's rows in a stable order (by rowid; by their text for a table without one)."""
    try:
        return conn.execute(f"SELECT * FROM [{table}] ORDER BY rowid").fetchall()
    except sqlite3.OperationalError:  # WITHOUT ROWID: the full-text index's own tables
        return sorted(conn.execute(f"SELECT * FROM [{table}]").fetchall(), key=repr)


# -- an independent reading of a member in plain SQL --------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _in_list(column: str, values, prefix: str, params: dict) -> str:
    names = []
    for i, value in enumerate(sorted(values)):
        params[f"{prefix}{i}"] = value
        names.append(f":{prefix}{i}")
    return f"{column} IN ({', '.join(names)})" if names else "0"


def sql_active(db: Database, member_id: str, as_of: datetime) -> bool:
    row = db.execute(
        "SELECT status FROM memberships WHERE member_id = ? AND ts <= ? ORDER BY ts DESC, id DESC LIMIT 1",
        [member_id, _iso(as_of)],
    ).fetchone()
    return row is not None and row[0] == "active"


def sql_tier_basis(db: Database, program: Program, member_id: str, as_of: datetime) -> int:
    """Net spend (or points) in (as_of - window, as_of], from the first join when the programme says so."""
    rules = program.tiers
    first_join = db.execute(
        "SELECT min(ts) FROM memberships WHERE member_id = ? AND status = 'active'", [member_id]
    ).fetchone()[0]
    if rules.since_first_join and first_join is None:
        return 0
    params = {
        "m": member_id,
        "as_of": _iso(as_of),
        "start": _iso(as_of - timedelta(days=rules.window_days)) if rules.window_days else None,
        "since": first_join if rules.since_first_join else None,
    }
    if rules.basis == "points":
        sql = """
            SELECT coalesce(sum(points), 0) FROM point_movements
             WHERE member_id = :m AND kind IN ('earn', 'bonus', 'adjust', 'clawback')
               AND ts <= :as_of AND (:start IS NULL OR ts > :start) AND (:since IS NULL OR ts >= :since)
        """
    else:
        sql = """
            SELECT coalesce(sum(CASE s.kind WHEN 'return' THEN -l.total ELSE l.total END), 0)
              FROM sale_lines l JOIN sales s ON s.sale_id = l.sale_id
             WHERE s.member_id = :m
               AND s.ts <= :as_of AND (:start IS NULL OR s.ts > :start) AND (:since IS NULL OR s.ts >= :since)
        """
    return db.execute(sql, params).fetchone()[0]


def sql_stamp_counts(db: Database, program: Program, member_id: str, as_of: datetime) -> dict[str, int]:
    counts = {}
    for card in program.stamp_cards:
        params = {"m": member_id, "as_of": _iso(as_of)}
        covers = " OR ".join(
            [_in_list("l.product_id", card.products, "p", params), _in_list("p.category", card.categories, "c", params)]
        )
        counts[card.name] = db.execute(
            f"""
            SELECT max(0, coalesce(sum(CASE s.kind WHEN 'return' THEN -l.qty ELSE l.qty END), 0))
              FROM sale_lines l JOIN sales s ON s.sale_id = l.sale_id
              JOIN products p ON p.product_id = l.product_id
             WHERE s.member_id = :m AND s.ts <= :as_of AND ({covers})
            """,
            params,
        ).fetchone()[0]
    return counts


def sql_promotions(db: Database, program: Program, member_id: str, as_of: datetime) -> dict[str, tuple[str, ...]]:
    """History promotions the member meets: {name: the products that made them qualify}."""
    if not sql_active(db, member_id, as_of):
        return {}
    found = {}
    for promo in program.promotions:
        cond = promo.history
        if cond is None:
            continue
        params = {
            "m": member_id,
            "as_of": _iso(as_of),
            "start": _iso(as_of - timedelta(days=cond.window_days)) if cond.window_days else None,
        }
        watched = cond.all_of | cond.none_of | cond.scope
        rows = db.execute(
            f"""
            SELECT l.product_id,
                   sum(CASE s.kind WHEN 'return' THEN -l.qty ELSE l.qty END),
                   sum(CASE s.kind WHEN 'return' THEN -l.total ELSE l.total END)
              FROM sale_lines l JOIN sales s ON s.sale_id = l.sale_id
             WHERE s.member_id = :m AND s.ts <= :as_of AND (:start IS NULL OR s.ts > :start)
               AND {_in_list("l.product_id", watched, "w", params)}
             GROUP BY l.product_id
            """,
            params,
        ).fetchall()
        bought = {product for product, qty, _ in rows if qty > 0}
        spend = sum(amount for product, _, amount in rows if product in cond.scope)
        if not cond.all_of <= bought or cond.none_of & bought:
            continue
        if cond.spend_above is not None and not spend > cond.spend_above:
            continue
        found[promo.name] = tuple(sorted(bought & (cond.all_of | cond.scope)))
    return found


def sql_points_sum(db: Database, member_id: str, as_of: datetime) -> int:
    """Every point movement up to as_of: the balance while no lot has expired."""
    return db.execute(
        "SELECT coalesce(sum(points), 0) FROM point_movements WHERE member_id = ? AND ts <= ?",
        [member_id, _iso(as_of)],
    ).fetchone()[0]


def sql_view(db: Database, program: Program, member_id: str, as_of: datetime) -> dict:
    return {
        "active": sql_active(db, member_id, as_of),
        "basis": sql_tier_basis(db, program, member_id, as_of) if program.tiers else None,
        "stamps": sql_stamp_counts(db, program, member_id, as_of),
        "promotions": sql_promotions(db, program, member_id, as_of),
    }


def engine_view(program: Program, facts, status, as_of: datetime) -> dict:
    """The same reading from the engine; the basis of an inactive member comes from tier_basis."""
    from pos_loyalty.engine.status import tier_basis

    if program.tiers is None:
        basis = None
    elif status.tier is not None:
        basis = status.tier.basis
    else:
        basis = tier_basis(program, facts, [l for l in facts.lines if l.ts <= as_of], as_of)
    return {
        "active": status.active,
        "basis": basis,
        "stamps": {card.name: card.count for card in status.stamp_cards},
        "promotions": {p.name: tuple(p.products) for p in status.promotions},
    }
