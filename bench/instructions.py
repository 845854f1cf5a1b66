"""CPU work counted in instructions: an import's and a checkout's, the same on every run.

    python bench/instructions.py                  # needs valgrind; the checkouts need bench/core.py's ledgers
    python bench/instructions.py --lines 20000    # a smaller import

This VM's speed moves by up to 2x from one minute to the next, so a change worth 5 % cannot be
seen in seconds. Valgrind's cachegrind counts the instructions a process runs instead: the count
moves by well under 1 % between runs of the same code. Each workload runs twice in a fresh
interpreter, with and without its measured part, and the difference is what is printed, so the
interpreter's start-up and the imports are left out. Instructions are not time (a page written to
the disk or a sync costs few of them), so this measures the Python and SQLite work only;
``bench/imports.py`` and ``bench/core.py`` give the seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def count(args: list[str]) -> int:
    """Instructions run by ``python bench/instructions.py --workload ...``, counted by cachegrind."""
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
               sys.executable, __file__, "--workload", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def measured(args: list[str]) -> int:
    """The instructions of a workload's measured part: with it, less without it."""
    return count([*args, "1"]) - count([*args, "0"])


# -- workloads (run under valgrind, in a fresh interpreter) --------------------------------------


def import_workload(folder: Path, part: str, run: bool) -> None:
    """A sales import into a ledger holding the members and products (``part``: all, or parse only)."""
    from pos_loyalty import ledger
    from pos_loyalty.io.importers import import_file, sale_events

    db_path = folder / "work.db"
    for suffix in ("", "-wal", "-shm", "-lock"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(folder / "base.db", db_path)
    db = ledger.connect(db_path)
    program = ledger.load_program(db)
    if not run:
        return
    if part == "parse":
        for _ in sale_events(folder / "sales.csv", "csv", program.decimals, False):
            pass
    else:
        import_file(db, program, "sales", folder / "sales.csv")


def checkout_workload(source: Path, count_: int, run: bool) -> None:
    """``count_`` checkouts of 1-3 lines for random members, on a copy of a bench/core.py ledger."""
    from pos_loyalty.engine import Basket, BasketLine
    from pos_loyalty.ledger import connect, load_program, record_sale

    import core

    copy = source.with_name(source.stem + ".instructions.db")
    for suffix in ("", "-wal", "-shm", "-lock"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, copy)
    try:
        db = connect(copy, durable=False)
        program = load_program(db)
        products = [r[0] for r in db.execute("SELECT product_id FROM products ORDER BY product_id")]
        members = [r[0] for r in db.execute("SELECT member_id FROM members ORDER BY member_id")]
        rng = random.Random(3)
        baskets = [
            Basket(tuple(BasketLine(p, rng.choice((1, 1, 2))) for p in rng.sample(products, rng.randint(1, 3))),
                   member_id=rng.choice(members))
            for _ in range(count_)
        ]
        if run:
            for number, basket in enumerate(baskets):
                record_sale(db, program, basket, core.CHECKOUT_FROM + dt.timedelta(seconds=number), f"S{number:08d}-I")
        db.conn.close()
    finally:
        for suffix in ("", "-wal", "-shm", "-lock"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)


# -- the report ----------------------------------------------------------------------------------


def prepare_import(folder: Path, lines: int) -> None:
    """The synthetic files of bench/imports.py, and a ledger holding their members and products."""
    from imports import synthetic

    from pos_loyalty import ledger
    from pos_loyalty.io.importers import import_file
    from pos_loyalty.paths import PROGRAMS

    people, products, sales = synthetic(folder, lines)
    sales.rename(folder / "sales.csv")
    db = ledger.connect(folder / "base.db")
    program = ledger.set_program(db, (PROGRAMS / "coffee_shop.toml").read_text(), "coffee_shop.toml")
    import_file(db, program, "members", people)
    import_file(db, program, "products", products)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000, help="lines of the synthetic sales file (parsed in-process)")
    parser.add_argument("--checkouts", type=int, default=300)
    parser.add_argument("--workload", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workload:
        kind, *rest, run = args.workload
        if kind == "import":
            import_workload(Path(rest[0]), rest[1], run == "1")
        else:
            checkout_workload(Path(rest[0]), int(rest[1]), run == "1")
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: this bench counts instructions with its cachegrind tool")
    print(f"instructions (valgrind cachegrind), Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="pos-loyalty-instructions-") as scratch:
        folder = Path(scratch)
        prepare_import(folder, args.lines)
        parse = measured(["import", str(folder), "parse"])
        whole = measured(["import", str(folder), "all"])
        print(f"import of {args.lines:,} synthetic sales lines, in one process (a file under 8 MB):")
        print(f"  parsing and checking rows : {parse / 1e9:6.3f} G  ({parse / args.lines:,.0f} a line)")
        print(f"  saving (the rest)         : {(whole - parse) / 1e9:6.3f} G  ({(whole - parse) / args.lines:,.0f} a line)")
        print(f"  whole import              : {whole / 1e9:6.3f} G  ({whole / args.lines:,.0f} a line)")
    for program in ("coffee_shop", "points"):
        source = REPO / "bench" / "out" / f"core_{program}_1000000_50000.db"
        if not source.exists():
            print(f"checkout ({program}): skipped, {source.name} is missing (python bench/core.py --program {program} builds it)")
            continue
        spent = measured(["checkout", str(source), str(args.checkouts)])
        print(f"checkout ({program}, 1-3 lines, 1M-line ledger, not synced): {spent / args.checkouts / 1e6:.3f} M a checkout"
              f" ({args.checkouts} checkouts)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
