"""The demo ledger: the coffee-shop recipe's members, catalogue and purchases, ready at the counter."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from .engine import Program
from .io.importers import import_file
from .ledger import connect, set_program
from .paths import FIXTURES, shipped_program

DEMO_FILES = (
    ("members", "members.csv"),
    ("products", "products.csv"),
    ("sales", "sales.csv"),
)


def build_demo(path: Path, program_name: str = "coffee_shop") -> tuple[Database, Program]:
    """A fresh ledger at ``path`` seeded from the coffee-shop fixtures (any old file is replaced)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = connect(path)
    program_file = shipped_program(program_name)
    program = set_program(db, program_file.read_text(encoding="utf-8"), program_file.name)
    for kind, name in DEMO_FILES:
        import_file(db, program, kind, FIXTURES / "coffee_shop" / name)
    return db, program

