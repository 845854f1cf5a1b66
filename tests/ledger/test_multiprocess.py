"""Several tills on one ledger file: four processes check out at once, on shared members and
competing for the same single-use codes. Nothing is lost, doubled or locked."""

from __future__ import annotations

import multiprocessing
import random
import time
import traceback
from collections import Counter
from datetime import datetime, timedelta

import pytest

from pos_loyalty import ledger
from pos_loyalty.engine import Basket, BasketLine
from pos_loyalty.ledger.verify import verify

from ..support import import_fixture, new_ledger

TILLS = 4
CHECKOUTS = 100
MEMBERS = ["m0", "m1", "m2"]
START = datetime(2026, 3, 3, 9, 0, 0)
PRODUCTS = ["coffee", "tea", "beret", "dog"]


def till(path: str, number: int, codes: list[str], barrier, results) -> None:
    """One till: its own connection, CHECKOUTS sales, some retried, some offering a shared code."""
    outcomes, unexpected = [], []
    try:
        db = ledger.connect(path)
        program = ledger.load_program(db)
        rng = random.Random(number)
        barrier.wait(timeout=60)
        for i in range(CHECKOUTS):
            time.sleep(rng.uniform(0, 0.004))  # a cashier's moment between baskets lets the others in
            sale_id = f"T{number}-{i:03d}"
            member = None if i % 7 == 0 else MEMBERS[(i + number) % len(MEMBERS)]
            items = tuple(BasketLine(rng.choice(PRODUCTS), rng.randint(1, 3)) for _ in range(rng.randint(1, 2)))
            code = codes[(i // 4) % len(codes)] if i % 4 == 0 else None
            at = START + timedelta(minutes=i, seconds=number)
            basket = Basket(items, member_id=member)
            for attempt in range(2 if i % 10 == 3 else 1):  # every tenth checkout is retried
                try:
                    receipt = ledger.record_sale(db, program, basket, at, sale_id, code=code)
                    outcomes.append((sale_id, member, code, "replayed" if receipt.replayed else "ok"))
                except ledger.LedgerError as exc:
                    if code is not None and "already used" in str(exc) and attempt == 0:
                        outcomes.append((sale_id, member, code, "code refused"))
                    else:
                        unexpected.append(f"{sale_id}: {exc!r}")
    except Exception:  # anything at all: the parent asserts there was none
        unexpected.append(traceback.format_exc())
    results.put((number, outcomes, unexpected))


@pytest.mark.slow
def test_four_tills_at_once(tmp_path):
    path = tmp_path / "ledger.db"
    db, program = new_ledger("points", path)
    import_fixture(db, program, "coffee_shop", [("products", "products.csv")])
    for member in MEMBERS:
        ledger.add_member(db, program, member, START - timedelta(days=1))
    codes = [code for code, _ in ledger.issue_codes(db, 10, START - timedelta(days=1), rng=random.Random(9))]
    db.close()

    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(TILLS), ctx.Queue()
    procs = [ctx.Process(target=till, args=(str(path), n, codes, barrier, results)) for n in range(TILLS)]
    for proc in procs:
        proc.start()
    reports = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0

    assert [u for _, _, unexpected in reports for u in unexpected] == []
    outcomes = [o for _, found, _ in reports for o in found]
    recorded = {sale_id for sale_id, _, _, how in outcomes if how == "ok"}
    replayed = {sale_id for sale_id, _, _, how in outcomes if how == "replayed"}
    refused = {sale_id for sale_id, _, _, how in outcomes if how == "code refused"}
    assert replayed <= recorded and not recorded & refused
    assert len(recorded) + len(refused) == TILLS * CHECKOUTS

    db = ledger.connect(path)
    in_ledger = Counter(row[0] for row in db.execute("SELECT sale_id FROM sales"))
    assert set(in_ledger) == recorded and set(in_ledger.values()) == {1}

    redemptions = db.execute("SELECT code, sale_id FROM code_redemptions").fetchall()
    assert len({code for code, _ in redemptions}) == len(redemptions) == len(codes)
    with_code = {(code, sale_id) for sale_id, _, code, how in outcomes if how == "ok" and code}
    assert set(redemptions) == with_code

    visits = dict(db.execute("SELECT member_id, visits FROM member_summary"))
    per_member = Counter(member for sale_id, member, _, how in outcomes if how == "ok" and member)
    assert visits == dict(per_member)
    assert verify(db) == []


def opener(path: str, barrier, results) -> None:
    """Open (and so create and migrate) a ledger file at the same moment as the other tills."""
    try:
        barrier.wait(timeout=60)
        db = ledger.connect(path)
        results.put(("ok", sorted(row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))))
    except Exception:
        results.put(("error", traceback.format_exc()))


@pytest.mark.slow
def test_four_tills_open_a_new_ledger_at_once(tmp_path):
    path = tmp_path / "fresh.db"
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(TILLS), ctx.Queue()
    procs = [ctx.Process(target=opener, args=(str(path), barrier, results)) for _ in range(TILLS)]
    for proc in procs:
        proc.start()
    reports = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert [how for how, _ in reports] == ["ok"] * TILLS, reports
    assert len({tuple(tables) for _, tables in reports}) == 1
    db = ledger.connect(path)
    assert {"sales", "sale_lines", "member_summary"} <= set(reports[0][1])
    assert verify(db) == []
