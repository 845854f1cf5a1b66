"""What the trust tests run in other processes, and the shop they run it on.

Not a test module: ``test_crash`` starts :func:`crash_child` with ``python -c`` and kills it;
``test_tills`` spawns :func:`till` four times. Both sides derive what a child was going to write
from the same seeded functions here, so the parent can check every sale line by line.
"""

from __future__ import annotations

import csv
import os
import random
import sys
import time
import traceback
from datetime import datetime, timedelta
from pathlib import Path

PRODUCTS = ("coffee", "tea", "beret", "dog", "cat", "handbag")
IMPORT_PRICES = {"coffee": 305, "tea": 255, "beret": 3499, "dog": 24999, "cat": 19500, "handbag": 12600}
MEMBERS = tuple(f"m{i:02d}" for i in range(12))
CHECKOUT_START = datetime(2026, 4, 1, 9, 0, 0)
IMPORT_START = datetime(2026, 3, 5, 9, 0, 0)
CODES_PER_ROUND = 60
SABOTAGE = os.environ.get("POS_LOYALTY_TRUST_SABOTAGE", "")
"""Set by hand only, to watch the trust tests fail on a broken ledger (never in a normal run):
``import-batches`` commits an import every 2,000 sales, ``checkout-split`` commits a checkout's
sale before its lines, ``stale-balance`` prices a till's checkouts on member facts read once."""


def sabotage() -> None:
    """Break the ledger in this process the way ``SABOTAGE`` says (see above)."""
    from pos_loyalty.ledger import imports, writes

    if SABOTAGE == "import-batches":
        flush = imports.Saver.flush

        def committing_flush(self):
            flush(self)
            self.db.conn.execute("COMMIT")
            self.db.conn.execute("BEGIN IMMEDIATE")

        imports.Saver.flush = committing_flush
    elif SABOTAGE == "checkout-split":
        insert_lines = writes._insert_lines

        def split(db, *args):
            db.conn.execute("COMMIT")
            time.sleep(0.05)  # widen the window a kill must land in
            db.conn.execute("BEGIN IMMEDIATE")
            insert_lines(db, *args)

        writes._insert_lines = split
    elif SABOTAGE == "stale-balance":
        for name in ("load_member_facts", "read_member"):  # the facts, and the facts with their stamp
            load, seen = getattr(writes, name), {}

            def stale(db, member_id, load=load, seen=seen):
                if member_id not in seen:
                    seen[member_id] = load(db, member_id)
                return seen[member_id]

            setattr(writes, name, stale)


def build_shop(path: Path, program_name: str = "points", codes: int = 0) -> list[str]:
    """A ledger file: the programme, the coffee-shop catalogue, MEMBERS, and ``codes`` codes."""
    from pos_loyalty import ledger

    from ..support import import_fixture, new_ledger

    db, program = new_ledger(program_name, path)
    import_fixture(db, program, "coffee_shop", [("products", "products.csv")])
    for member_id in MEMBERS:
        ledger.add_member(db, program, member_id, datetime(2026, 3, 1, 8, 0, 0))
    issued = []
    if codes:
        issued = [c for c, _ in ledger.issue_codes(db, codes, datetime(2026, 3, 1, 8, 0, 0), rng=random.Random(5))]
    db.conn.close()
    return sorted(issued)


# -- what a crash child writes ----------------------------------------------------------------


def checkout_plan(round_no: int, i: int) -> tuple[str | None, tuple[tuple[str, int], ...], bool]:
    """Checkout ``i`` of a round: (member or None, ((product, qty), ...), offers a code)."""
    rng = random.Random(f"checkout-{round_no}-{i}")
    member = None if rng.random() < 0.15 else rng.choice(MEMBERS)
    products = rng.sample(PRODUCTS, rng.randint(1, 4))
    lines = tuple((p, rng.randint(1, 3)) for p in products)
    return member, lines, i % 5 == 2


def checkout_id(round_no: int, i: int) -> str:
    return f"C{round_no:02d}-{i:06d}"


def import_id_prefix(round_no: int) -> str:
    return f"I{round_no:02d}-"


def write_import(path: Path, round_no: int, lines: int) -> dict[str, tuple[int, int]]:
    """A sales CSV of ``lines`` lines; returns {sale_id: (line count, total in minor units)}."""
    rng = random.Random(f"import-{round_no}")
    expected: dict[str, tuple[int, int]] = {}
    prefix = import_id_prefix(round_no)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["sale_id", "ts", "member_id", "product_id", "qty", "unit_price"])
        written, sale_no = 0, 0
        while written < lines:
            sale_no += 1
            sale_id = f"{prefix}{sale_no:06d}"
            at = (IMPORT_START + timedelta(days=round_no, seconds=sale_no)).isoformat()
            member = "" if rng.random() < 0.1 else rng.choice(MEMBERS)
            n = min(rng.randint(1, 5), lines - written)
            total = 0
            for product in rng.sample(PRODUCTS, n):
                qty = rng.randint(1, 3)
                price = IMPORT_PRICES[product]
                out.writerow([sale_id, at, member, product, qty, f"{price // 100}.{price % 100:02d}"])
                total += qty * price
            expected[sale_id] = (n, total)
            written += n
    return expected


def crash_child() -> None:
    """``python -c`` entry: argv = ledger, mode (import|checkout), round, file, log.

    Writes ``ready`` to the log once the ledger is open, then either imports ``file`` as one
    transaction, or checks out ``checkout_plan(round, 0..)`` one after the other, appending each
    sale id to the log after its transaction committed. The parent kills it with SIGKILL.
    """
    ledger_path, mode, round_text, file, log_path = sys.argv[1:6]
    round_no = int(round_text)
    from pos_loyalty import ledger
    from pos_loyalty.engine import Basket, BasketLine
    from pos_loyalty.io.importers import import_file

    sabotage()
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    db = ledger.connect(ledger_path)
    program = ledger.load_program(db)
    codes = [row[0] for row in db.execute("SELECT code FROM codes ORDER BY code")]
    codes = codes[round_no * CODES_PER_ROUND : (round_no + 1) * CODES_PER_ROUND]
    os.write(log, b"ready\n")
    if mode == "import":
        import_file(db, program, "sales", file)
        os.write(log, b"done\n")
        return
    offered = 0
    for i in range(1_000_000):
        member, lines, with_code = checkout_plan(round_no, i)
        code = None
        if with_code and offered < len(codes):
            code, offered = codes[offered], offered + 1
        basket = Basket(tuple(BasketLine(p, q) for p, q in lines), member_id=member)
        ledger.record_sale(db, program, basket, CHECKOUT_START + timedelta(days=round_no, seconds=i), checkout_id(round_no, i), code=code)
        os.write(log, f"{checkout_id(round_no, i)}\n".encode())


# -- a till of the parallel test ----------------------------------------------------------------

SHARED = MEMBERS[:3]
"""Members every till serves (the same member at two tills at once)."""
SAVER = MEMBERS[3]
"""The member whose points every till tries to spend (and who buys nothing else)."""
REDEEM = 500
"""Points a till offers to spend on SAVER's tea:2 (5.10 before the tier discount): 5.00 off."""
TILL_AT = datetime(2026, 4, 1, 12, 0, 0)
"""Every till checks out at this one instant. With one instant, the status a checkout prices
against always holds every sale committed before it (see test_tills: a checkout dated before a
recorded redemption is a separate, pinned bug)."""


def till(path: str, number: int, codes: list[str], seconds: float, barrier, results) -> None:
    """One till: its own connection; checkouts for ``seconds`` (shared members, codes, points)."""
    outcomes, unexpected = [], []
    checkouts = 0
    try:
        from pos_loyalty import ledger
        from pos_loyalty.engine import Basket, BasketLine

        sabotage()
        db = ledger.connect(path)
        program = ledger.load_program(db)
        rng = random.Random(1000 + number)
        own = MEMBERS[4 + 2 * number : 6 + 2 * number]
        next_code = 0
        barrier.wait(timeout=60)
        began = time.monotonic()
        deadline = began + seconds
        i = 0
        while time.monotonic() < deadline:
            i += 1
            sale_id = f"T{number}-{i:06d}"
            kind = i % 4
            code, redeem = None, 0
            if kind == 0 and next_code < len(codes):
                code, next_code = codes[next_code], next_code + 1  # every till offers every code, in order
                member = rng.choice(SHARED)
                items = ((rng.choice(PRODUCTS), rng.randint(1, 2)),)
            elif kind == 1:
                member, redeem, items = SAVER, REDEEM, (("tea", 2),)
            elif kind == 2:
                member = rng.choice(SHARED)
                items = tuple((p, rng.randint(1, 3)) for p in rng.sample(PRODUCTS, rng.randint(1, 3)))
            else:
                member = rng.choice(own + (None,))
                items = tuple((p, rng.randint(1, 3)) for p in rng.sample(PRODUCTS, rng.randint(1, 3)))
            basket = Basket(tuple(BasketLine(p, q) for p, q in items), member_id=member, redeem_points=redeem)
            try:
                receipt = ledger.record_sale(db, program, basket, TILL_AT, sale_id, code=code)
            except ledger.LedgerBusy as exc:
                unexpected.append(f"{sale_id}: {exc!r}")
                continue
            except ledger.LedgerError as exc:
                text = str(exc)
                if code is not None and "already used" in text:
                    outcomes.append((sale_id, member, code, redeem, "code refused", items))
                elif redeem and "points available" in text:
                    outcomes.append((sale_id, member, code, redeem, "points refused", items))
                else:
                    unexpected.append(f"{sale_id}: {exc!r}")
                continue
            checkouts += 1
            outcomes.append((sale_id, member, code, receipt.quote.points_redeemed, "ok", items))
            if number == 0 and i % 200 == 0:
                # a manager tops the saver up now and then, so the tills keep meeting an empty balance
                ledger.adjust_points(db, program, SAVER, 3000, "top-up", TILL_AT)
                outcomes.append((f"adjust-{i}", SAVER, None, 0, "adjusted", ()))
        elapsed = time.monotonic() - began
    except Exception:  # noqa: BLE001  (anything at all: the parent asserts there was none)
        unexpected.append(traceback.format_exc())
        elapsed = 0.0
    results.put((number, outcomes, unexpected, checkouts, elapsed))
