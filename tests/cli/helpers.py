"""The CLI driven in-process, and the coffee-shop ledger the CLI tests start from."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pos_loyalty.cli import app
from pos_loyalty.paths import FIXTURES, PROGRAMS

runner = CliRunner()


def cli(db: Path, *args: str, ok: bool = True, env: dict | None = None):
    """``pos-loyalty --db DB ARGS``; with ``ok`` it must exit 0 (the output is shown if not)."""
    result = runner.invoke(app, ["--db", str(db), *args], env=env)
    if ok:
        assert result.exit_code == 0, result.output + (result.stderr or "")
    return result


def coffee_shop(db: Path, program: str = "coffee_shop", extra: tuple[tuple[str, Path], ...] = ()) -> Path:
    """A ledger running ``program`` with the coffee-shop recipe's members, products and sales."""
    cli(db, "init", "--program", str(PROGRAMS / f"{program}.toml"))
    for kind in ("members", "products", "sales"):
        cli(db, "import", kind, str(FIXTURES / "coffee_shop" / f"{kind}.csv"))
    for kind, path in extra:
        cli(db, "import", kind, str(path))
    return db
