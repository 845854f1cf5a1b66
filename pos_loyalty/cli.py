"""The ``pos-loyalty`` command: thin Typer commands over the ledger, the engine and the importers."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from . import ledger
from .engine import Basket, BasketLine, MemberStatus, Program, ProgramError, member_status
from .io.exporters import EXPORTS, ROWS, flatten_status, write_rows
from .io.importers import KINDS, import_file
from .io.readers import InputError
from .ledger import LedgerError, TimestampError, parse_ts
from .paths import default_ledger, shipped_program
from .views import money, receipt_json, return_json, status_json, tier_basis_text

USER_ERRORS = (LedgerError, InputError, ProgramError, TimestampError, OSError)

console = Console()


class LoyaltyGroup(TyperGroup):
    """Turns a user's mistake anywhere below into one line on stderr and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            message = str(exc) if not isinstance(exc, OSError) else f"{exc.filename or ''}: {exc.strerror}"
            typer.echo(f"pos-loyalty: {message}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=LoyaltyGroup,
    help="A loyalty companion beside the till: members, tiers, stamp cards, promotions and points.",
    context_settings={"help_option_names": ["-h", "--help"]},
    invoke_without_command=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


@dataclass
class State:
    """What every command needs: where the ledger is."""

    db_path: Path

    def open(self):
        """The ledger and its programme; only ``init`` creates a ledger."""
        if not self.db_path.exists():
            raise LedgerError(f"no ledger at {self.db_path}: create one with `pos-loyalty init`")
        db = ledger.connect(self.db_path)
        return db, ledger.load_program(db)


DbOption = Annotated[
    Optional[Path],
    typer.Option("--db", help="The ledger file (default: $POS_LOYALTY_DB, else one in your data directory).", show_default=False),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
AsOf = Annotated[Optional[str], typer.Option("--as-of", help="The instant to look from, e.g. 2026-03-02T09:00 (default: now).")]


@app.callback()
def main_callback(ctx: typer.Context, db: DbOption = None) -> None:
    """A loyalty companion beside the till.

    Example: pos-loyalty --db shop.db status kris
    """
    ctx.obj = State(db or default_ledger())
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


def state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State) if ctx.obj is None else ctx.obj


def instant(text: str | None) -> datetime:
    """The given instant, or now: the CLI is the edge where the clock is read."""
    return parse_ts(text) if text else datetime.now().replace(microsecond=0)


def print_json(data) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


# -- set-up ---------------------------------------------------------------------------------


@app.command()
def init(
    ctx: typer.Context,
    program: Annotated[Optional[Path], typer.Option("--program", help="A programme TOML file.")] = None,
) -> None:
    """Create or upgrade a ledger and set the programme it runs.

    Example: pos-loyalty --db shop.db init --program fixtures/programs/tiered_pln.toml
    """
    path = state(ctx).db_path
    db = ledger.connect(path)
    try:
        current = ledger.load_program(db)
    except LedgerError:
        current = None
    if program is None and current is None:
        program = shipped_program("coffee_shop")
    if program is not None:
        if not program.exists():
            raise InputError(program, "no such file")
        current = ledger.set_program(db, program.read_text(encoding="utf-8"), str(program))
    typer.echo(f"{path}: ready, running {current.title} ({current.name}, {current.currency})")


@app.command("import")
def import_(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help=f"What the file holds: {', '.join(KINDS)}.", show_default=False)],
    file: Annotated[Path, typer.Argument(help="The file to import.", show_default=False)],
    fmt: Annotated[Optional[str], typer.Option("--format", help="csv, json or jsonl (default: from the file name).")] = None,
) -> None:
    """Import a file, all or nothing; importing the same file again changes nothing.

    Example: pos-loyalty import sales fixtures/coffee_shop/sales.csv
    """
    db, program = state(ctx).open()
    counts = import_file(db, program, kind, file, fmt)
    typer.echo(f"{file}: read {counts.read} rows, wrote {counts.written}, {counts.unchanged} already in the ledger")


# -- the counter ----------------------------------------------------------------------------


def parse_item(text: str) -> BasketLine:
    """``coffee`` or ``coffee:3``."""
    product, _, qty = text.partition(":")
    if not product:
        raise LedgerError(f"item {text!r}: expected PRODUCT or PRODUCT:QTY")
    try:
        count = int(qty) if qty else 1
    except ValueError:
        raise LedgerError(f"item {text!r}: the quantity must be a whole number") from None
    if count < 1:
        raise LedgerError(f"item {text!r}: the quantity must be at least 1")
    return BasketLine(product, count)


@app.command()
def status(
    ctx: typer.Context,
    member: Annotated[str, typer.Argument(help="The member's id.", show_default=False)],
    as_of: AsOf = None,
    as_json: JsonFlag = False,
) -> None:
    """Show a member's tier, stamp cards, promotions and points.

    Example: pos-loyalty status kris --as-of 2026-03-03 --json
    """
    db, program = state(ctx).open()
    facts = ledger.load_member_facts(db, member)
    if facts is None:
        raise LedgerError(f"unknown member {member!r}")
    result = member_status(program, facts, instant(as_of))
    if as_json:
        print_json(status_json(program, result))
    else:
        console.print(status_table(program, result))


def status_table(program: Program, result: MemberStatus) -> Table:
    table = Table(title=f"{result.name or result.member_id} ({result.member_id})", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("membership", "active" if result.active else "not an active member")
    if result.tier is not None:
        tier = result.tier
        progress = f" · {tier_basis_text(program, tier.to_next)} to {tier.next}" if tier.next else " · top tier"
        table.add_row("tier", f"{tier.name} (rank {tier.rank}) on {tier_basis_text(program, tier.basis)}{progress}")
        if tier.discount_percent:
            table.add_row("tier discount", f"{tier.discount_percent} %")
        if tier.perks:
            table.add_row("perks", ", ".join(tier.perks))
    for card in result.stamp_cards:
        cups = "●" * card.position + "○" * (card.buy - card.position) if not card.next_free else "●" * card.buy
        note = "next one free" if card.next_free else f"{card.buy - card.position} to go"
        table.add_row(f"{card.name} card", f"{cups}  {note} ({card.count} bought)")
    for promo in result.promotions:
        table.add_row("promotion", f"{promo.name} ({', '.join(promo.products)})")
    if result.points is not None:
        expiring = f" · {result.points.expiring_total} expiring soon" if result.points.expiring else ""
        table.add_row("points", f"{result.points.balance}{expiring}")
    return table


@app.command()
def sell(
    ctx: typer.Context,
    member: Annotated[str, typer.Argument(help="The member's id, or - for an anonymous sale.", show_default=False)],
    items: Annotated[list[str], typer.Argument(help="PRODUCT or PRODUCT:QTY, one or more.", show_default=False)],
    code: Annotated[Optional[str], typer.Option("--code", help="A single-use discount code.")] = None,
    redeem_points: Annotated[int, typer.Option("--redeem-points", help="Points to spend on this sale.")] = 0,
    at: Annotated[Optional[str], typer.Option("--at", help="When the sale happens (default: now).")] = None,
    sale_id: Annotated[Optional[str], typer.Option("--id", help="The sale's id; the same id twice records one sale.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check out a basket through the same code path as the till, and print the receipt.

    Example: pos-loyalty sell kris coffee:2 beret --code LSEMJ50 --id till1-0042
    """
    db, program = state(ctx).open()
    basket = Basket(
        tuple(parse_item(item) for item in items),
        member_id=None if member == "-" else member,
        redeem_points=redeem_points,
    )
    receipt = ledger.record_sale(db, program, basket, instant(at), sale_id or ledger.new_sale_id(), code=code)
    if as_json:
        print_json(receipt_json(program, receipt))
        return
    console.print(receipt_table(program, receipt))


def receipt_table(program: Program, receipt: ledger.Receipt) -> Table:
    priced = receipt.quote
    title = f"Sale {receipt.sale_id}" + (" (already recorded)" if receipt.replayed else "")
    table = Table(title=title)
    table.add_column("item")
    table.add_column("qty", justify="right")
    table.add_column("price", justify="right")
    table.add_column("discounts")
    table.add_column("total", justify="right")
    for line in priced.lines:
        discounts = "; ".join(f"{d.reason} {d.detail} -{money(program, d.amount)}".replace("  ", " ") for d in line.discounts)
        table.add_row(line.name, str(line.qty), money(program, line.unit_price), discounts, money(program, line.total))
    table.add_section()
    table.add_row("subtotal", "", "", "", money(program, priced.subtotal))
    table.add_row("discounts", "", "", "", "-" + money(program, priced.discount_total))
    table.add_row("[bold]total[/]", "", "", "", f"[bold]{money(program, priced.total)} {program.currency}[/]")
    after = priced.status_after
    notes = []
    if program.points is not None and receipt.member_id:
        notes.append(f"points earned {priced.points_earned + priced.points_bonus}, spent {priced.points_redeemed}, balance {receipt.points_balance}")
    if after is not None and after.tier is not None:
        before = priced.status_before.tier if priced.status_before else None
        if before is not None and before.name != after.tier.name:
            notes.append(f"this purchase takes you to {after.tier.name}")
        else:
            notes.append(f"tier {after.tier.name}")
    for message in priced.messages:
        notes.append(message)
    if notes:
        table.caption = " · ".join(notes)
    return table


@app.command("return")
def return_(
    ctx: typer.Context,
    sale_id: Annotated[str, typer.Argument(help="The sale the items come back from.", show_default=False)],
    items: Annotated[list[str], typer.Argument(help="PRODUCT or PRODUCT:QTY, one or more.", show_default=False)],
    at: Annotated[Optional[str], typer.Option("--at", help="When the return happens (default: now).")] = None,
    return_id: Annotated[Optional[str], typer.Option("--id", help="The return's id; the same id twice records one return.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Return items of a sale: refund what was paid, take back stamps and points.

    Example: pos-loyalty return cs-0001 coffee:1 --json
    """
    db, program = state(ctx).open()
    receipt = ledger.record_return(db, program, sale_id, [parse_item(i) for i in items], instant(at), return_id)
    if as_json:
        print_json(return_json(program, receipt))
        return
    table = Table(title=f"Return {receipt.return_id} of sale {receipt.sale_id}")
    table.add_column("item")
    table.add_column("qty", justify="right")
    table.add_column("refund", justify="right")
    for line in receipt.lines:
        table.add_row(line.product_id, str(line.qty), money(program, line.refund))
    table.add_section()
    table.add_row("[bold]refund[/]", "", f"[bold]{money(program, receipt.refund_total)} {program.currency}[/]")
    if receipt.points_clawed_back or receipt.points_restored:
        table.caption = f"points taken back {receipt.points_clawed_back}, given back {receipt.points_restored}"
    console.print(table)


# -- export ---------------------------------------------------------------------------------


@app.command()
def export(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help=f"What to export: {', '.join(EXPORTS)}.", show_default=False)],
    fmt: Annotated[str, typer.Option("--format", help="csv, json or jsonl.")] = "csv",
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write to this file instead of stdout.")] = None,
    as_of: AsOf = None,
    personal: Annotated[
        bool, typer.Option("--include-personal-data", help="Include e-mail, phone and birthday (members).")
    ] = False,
) -> None:
    """Export members, products, sales or every member's status.

    Example: pos-loyalty export status --format jsonl -o status.jsonl --as-of 2026-03-03
    """
    if kind not in EXPORTS:
        raise LedgerError(f"cannot export {kind!r} (expected one of: {', '.join(EXPORTS)})")
    if fmt not in ("csv", "json", "jsonl"):
        raise LedgerError(f"unknown format {fmt!r} (expected csv, json or jsonl)")
    db, program = state(ctx).open()
    rows = ROWS[kind](db, program, instant(as_of), personal)
    flatten = flatten_status if kind == "status" else None
    if output is None:
        count = write_rows(rows, sys.stdout, fmt, flatten)
    else:
        with output.open("w", encoding="utf-8", newline="") as out:
            count = write_rows(rows, out, fmt, flatten)
        typer.echo(f"{output}: {count} {kind} rows", err=True)


# -- demo and TUI ---------------------------------------------------------------------------


@app.command()
def demo(
    ctx: typer.Context,
    as_of: AsOf = None,
) -> None:
    """Build a fresh demo ledger from the coffee-shop fixtures and show it.

    Example: pos-loyalty demo
    """
    from .demo import build_demo
    from .paths import data_dir

    path = data_dir() / "demo.db"
    db, program = build_demo(path)
    moment = instant(as_of)
    table = Table(title=f"{program.title}: demo ledger {path}")
    for column in ("member", "tier", "spend", "to next", "coffee card", "promotions"):
        table.add_column(column)
    for (member_id,) in db.execute("SELECT member_id FROM members ORDER BY member_id"):
        result = member_status(program, ledger.load_member_facts(db, member_id), moment)
        tier = result.tier
        card = result.stamp_cards[0] if result.stamp_cards else None
        table.add_row(
            f"{result.name} ({member_id})",
            tier.name if tier else "-",
            money(program, tier.basis) if tier else "-",
            f"{money(program, tier.to_next)} to {tier.next}" if tier and tier.next else "-",
            ("next one free" if card.next_free else f"{card.position}/{card.buy}") if card else "-",
            ", ".join(p.name for p in result.promotions) or "-",
        )
    console.print(table)
    typer.echo(f"Try: pos-loyalty --db {path} sell yeva coffee --json")


def main() -> None:
    """Console-script entry point."""
    app()
