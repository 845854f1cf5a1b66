"""Crash safety: a process is killed with SIGKILL in the middle of a big import and in the middle
of a stream of checkouts, 16 times in all (8 kills of each, at random moments drawn from a seeded
RNG), on one ledger file that keeps growing. After every kill the ledger is opened again and:

- ``PRAGMA integrity_check`` is ok and ``verify`` finds no fault;
- the import that was killed is all there or not there at all (0 or all of its sale ids), and
  every import before it is exactly as it was;
- every checkout the child reported as committed is there, at most one more (committed, killed
  before it could say so), and they are checkouts 0..k-1 of its plan with nothing missing between;
- every sale is whole: its lines are exactly the lines the child was going to write (product and
  quantity, in order), its totals are the sums of its lines, a code it offered is redeemed by it
  and by nothing else, and no sale has no lines.

The test prints how many kills it did and where they landed (run ``pytest -s`` to see it).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pos_loyalty import ledger
from pos_loyalty.ledger.verify import verify

from ..support import ROOT
from .workers import (
    CODES_PER_ROUND,
    build_shop,
    checkout_id,
    checkout_plan,
    import_id_prefix,
    write_import,
)

KILLS = 8
"""Kills of each kind: 8 during imports and 8 during checkouts."""
IMPORT_LINES = 30_000
SEED = 20261125
CHILD = "from tests.trust.workers import crash_child; crash_child()"


def start_child(path: Path, mode: str, round_no: int, file: Path, log: Path) -> tuple[subprocess.Popen, float]:
    """Start the child and wait until it has the ledger open; returns it and when it was ready."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), mode, str(round_no), str(file), str(log)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not (log.exists() and log.read_bytes().startswith(b"ready\n")):
        if proc.poll() is not None:
            raise AssertionError(f"the child died before it was ready: {proc.stderr.read().decode()}")
        assert time.monotonic() < deadline, "the child never got ready"
        time.sleep(0.002)
    return proc, time.monotonic()


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()


def log_lines(log: Path) -> list[str]:
    return log.read_text().split()


def check_ledger(path: Path, imports: dict[int, dict[str, tuple[int, int]]], present: dict[int, bool],
                 codes: list[str], checkout_rounds: dict[int, set[str]]) -> None:
    """Everything the module docstring promises, on the ledger as it is after a kill."""
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    raw.close()
    db = ledger.connect(path)
    try:
        assert verify(db) == []
        assert db.execute(
            "SELECT count(*) FROM sales s WHERE NOT EXISTS (SELECT 1 FROM sale_lines l WHERE l.sale_id = s.sale_id)"
        ).fetchone()[0] == 0

        for round_no, expected in imports.items():
            prefix = import_id_prefix(round_no)
            found = {
                sale_id: (lines, total)
                for sale_id, lines, total in db.execute(
                    """SELECT s.sale_id, count(l.line_no), s.total FROM sales s
                         JOIN sale_lines l ON l.sale_id = s.sale_id
                        WHERE s.sale_id >= ? AND s.sale_id < ? GROUP BY s.sale_id""",
                    [prefix, prefix + "~"],
                )
            }
            assert len(found) in (0, len(expected)), f"import {round_no} is half there: {len(found)} of {len(expected)} sales"
            if present.get(round_no) is not None:
                assert bool(found) == present[round_no], f"import {round_no} changed after it was settled"
            present[round_no] = bool(found)
            if found:
                assert found == expected

        offered_codes = {}
        for round_no, recorded in checkout_rounds.items():
            prefix = f"C{round_no:02d}-"
            ids = [row[0] for row in db.execute(
                "SELECT sale_id FROM sales WHERE sale_id >= ? AND sale_id < ? ORDER BY sale_id", [prefix, prefix + "~"]
            )]
            assert ids == [checkout_id(round_no, i) for i in range(len(ids))], "a checkout is missing in the middle"
            assert recorded <= set(ids), f"committed checkouts lost: {sorted(recorded - set(ids))[:5]}"
            assert len(ids) - len(recorded) <= 1
            round_codes = codes[round_no * CODES_PER_ROUND : (round_no + 1) * CODES_PER_ROUND]
            offered = 0
            for i, sale_id in enumerate(ids):
                _member, plan, with_code = checkout_plan(round_no, i)
                code = None
                if with_code and offered < len(round_codes):
                    code, offered = round_codes[offered], offered + 1
                lines = db.execute(
                    "SELECT product_id, qty, unit_price, list_amount, total FROM sale_lines WHERE sale_id = ? ORDER BY line_no",
                    [sale_id],
                ).fetchall()
                assert [(p, q) for p, q, *_ in lines] == list(plan), sale_id
                subtotal, total, named = db.execute(
                    "SELECT subtotal, total, discount_code FROM sales WHERE sale_id = ?", [sale_id]
                ).fetchone()
                assert subtotal == sum(listed for *_, listed, _ in lines) == sum(q * u for _, q, u, _, _ in lines)
                assert total == sum(t for *_, t in lines)
                assert named == code, sale_id
                if code is not None:
                    offered_codes[code] = sale_id
        redemptions = dict(db.execute("SELECT code, sale_id FROM code_redemptions"))
        assert redemptions == offered_codes
    finally:
        db.conn.close()


@pytest.mark.slow
def test_sigkill_in_the_middle_of_imports_and_checkouts(tmp_path):
    path = tmp_path / "ledger.db"
    codes = build_shop(path, "points", codes=CODES_PER_ROUND * (KILLS + 1))
    rng = random.Random(SEED)
    imports: dict[int, dict[str, tuple[int, int]]] = {}
    present: dict[int, bool] = {}
    checkout_rounds: dict[int, set[str]] = {}

    # round 0 runs to the end: it times an import (so kills can be spread over one) and leaves
    # a complete import in the ledger for the later rounds to keep intact
    file = tmp_path / "import-00.csv"
    imports[0] = write_import(file, 0, IMPORT_LINES)
    proc, ready = start_child(path, "import", 0, file, tmp_path / "import-00.log")
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()
    proc.stderr.close()
    import_seconds = time.monotonic() - ready
    check_ledger(path, imports, present, codes, checkout_rounds)
    assert present[0]

    landed = {"import absent": 0, "import whole": 0}
    committed_per_kill = []
    for round_no in range(1, KILLS + 1):
        file = tmp_path / f"import-{round_no:02d}.csv"
        imports[round_no] = write_import(file, round_no, IMPORT_LINES)
        log = tmp_path / f"import-{round_no:02d}.log"
        proc, ready = start_child(path, "import", round_no, file, log)
        time.sleep(max(0.0, ready + rng.uniform(0, 1.1 * import_seconds) - time.monotonic()))
        kill(proc)
        done = "done" in log_lines(log)
        check_ledger(path, imports, present, codes, checkout_rounds)
        if done:
            assert present[round_no], "the import said it was done but is not in the ledger"
        landed["import whole" if present[round_no] else "import absent"] += 1

        log = tmp_path / f"checkout-{round_no:02d}.log"
        proc, ready = start_child(path, "checkout", round_no, tmp_path, log)
        time.sleep(max(0.0, ready + rng.uniform(0.02, 1.2) - time.monotonic()))
        kill(proc)
        checkout_rounds[round_no] = set(log_lines(log)[1:])
        check_ledger(path, imports, present, codes, checkout_rounds)
        committed_per_kill.append(len(checkout_rounds[round_no]))

    kills = KILLS * 2
    print(
        f"\ncrash safety: {kills} SIGKILLs ({KILLS} during {IMPORT_LINES:,}-line imports taking ~{import_seconds:.2f} s: "
        f"{landed['import absent']} left no trace, {landed['import whole']} had committed; {KILLS} during checkouts: "
        f"{committed_per_kill} committed before the kill); every check held after each"
    )
    assert landed["import absent"] + landed["import whole"] == KILLS
