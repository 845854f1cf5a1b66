"""The ``pos-loyalty`` command: thin Typer commands over the ledger, the engine and the importers."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
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
from .engine import Basket, BasketLine, MemberStatus, Program, ProgramError, format_amount, member_status
from .io.exporters import EXPORTS, ROWS, csv_header, event_rows, flatten_event, flatten_status, write_rows
from .io.importers import KINDS, import_file
from .io.readers import InputError
from .ledger import LedgerError, TimestampError, parse_ts
from .ledger.browse import point_history
from .paths import default_ledger, shipped_program
from .views import money, period_note, receipt_json, return_json, status_json, tier_basis_text, when_text

USER_ERRORS = (LedgerError, InputError, ProgramError, TimestampError, OSError)

console = Console()


class LoyaltyGroup(TyperGroup):
    """Turns a user's mistake anywhere below into one line on stderr and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader (``| head``) went away: stop quietly, as Unix tools do.
            sys.stdout = open(os.devnull, "w")
            raise typer.Exit(0) from None
        except USER_ERRORS as exc:
            message = str(exc)
            if isinstance(exc, OSError) and exc.strerror:
                message = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
            # A message may quote the user's text; control characters must not break the one line.
            message = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)
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
        if not sys.stdin.isatty() or not sys.stdout.isatty():
            typer.echo(ctx.get_help())
            return
        if not ctx.obj.db_path.exists():
            raise LedgerError(f"no ledger at {ctx.obj.db_path}: create one with `pos-loyalty init`, or try `pos-loyalty demo`")
        open_tui(ctx.obj.db_path)


def state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State) if ctx.obj is None else ctx.obj


PinOption = Annotated[
    Optional[str],
    typer.Option("--pin", envvar="POS_LOYALTY_PIN", help="The manager PIN, when one is set (else asked for).", show_default=False),
]


def require_manager(db, pin: str | None) -> None:
    """Manager-only commands ask for the PIN when one is set; a wrong one is refused and counted."""
    from .ledger.access import check_pin, pin_is_set

    if not pin_is_set(db):
        return
    if pin is None:
        if not sys.stdin.isatty():
            raise LedgerError("this command needs the manager PIN: pass --pin or set POS_LOYALTY_PIN")
        pin = typer.prompt("Manager PIN", hide_input=True)
    if not check_pin(db, pin, instant(None)):
        raise LedgerError("wrong manager PIN")


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
    pin: PinOption = None,
) -> None:
    """Create or upgrade a ledger and set the programme it runs (changing it needs the manager PIN).

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
        if current is not None:
            require_manager(db, pin)
        current = ledger.set_program(db, program.read_text(encoding="utf-8"), str(program))
    typer.echo(f"{path}: ready, running {current.title} ({current.name}, {current.currency})")


@app.command("import")
def import_(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help=f"What the file holds: {', '.join(KINDS)}.", show_default=False)],
    file: Annotated[Path, typer.Argument(help="The file to import.", show_default=False)],
    fmt: Annotated[
        Optional[str], typer.Option("--format", help="csv, json, jsonl or online-retail (default: from the file name).")
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Write the valid rows; refused ones go to a reject file.")
    ] = False,
    rejects: Annotated[
        Optional[Path], typer.Option("--rejects", help="Where refused rows go (default: FILE.rejects.csv).")
    ] = None,
) -> None:
    """Import a file, all or nothing; importing the same file again changes nothing.

    A CSV file's cells may be separated by commas, semicolons or tabs (whichever its header row uses), and its amounts may have a decimal comma (12,50), as European spreadsheets save them.

    Every `export` of members, memberships, products, codes and sales imports again: a sales export's list amount, total and discounts (with their reasons) are kept as they were.

    With --format online-retail, `import sales` reads the UCI Online Retail file's invoices, and `import products` gives each product it sells the unit price of its latest sale, so the till can sell it.

    Example: pos-loyalty import sales ../shared/data/online-retail/OnlineRetail.csv --format online-retail
    """
    db, program = state(ctx).open()
    with import_progress(file) as progress:
        if fmt == "online-retail" and kind == "products":
            from .io.online_retail import import_online_retail_prices

            if skip_invalid:
                raise InputError(file, "--skip-invalid does not apply to prices, which are imported all or nothing")
            counts = import_online_retail_prices(db, program, file, progress=progress)
            typer.echo(f"{file}: read {counts.read} rows; priced {counts.written + counts.unchanged} products at their "
                       f"latest sale, {counts.written} prices new, {counts.unchanged} already in the ledger")
            return
        if fmt == "online-retail":
            if kind != "sales":
                raise InputError(file, "the online-retail format holds sales and their prices: "
                                       "use `import sales` or `import products`")
            from .io.importers import Rejects, default_rejects
            from .io.online_retail import COLUMNS, import_online_retail

            refused = Rejects(rejects or default_rejects(file), list(COLUMNS)) if skip_invalid else None
            try:
                summary = import_online_retail(db, program, file, skip_invalid=skip_invalid, rejects=refused, progress=progress)
            finally:
                if refused is not None:
                    refused.close()
            typer.echo(
                f"{file}: read {summary.rows} rows; wrote {summary.invoices} invoices "
                f"({summary.sale_lines} sale lines, {summary.return_lines} return lines, "
                f"{summary.anonymous_lines} of them anonymous), {summary.members_added} new members, "
                f"{summary.products_added} new products; skipped {summary.skipped_write_offs} stock write-offs "
                f"and {summary.skipped_bad_debt} bad-debt adjustments; rounded {summary.rounded_lines} sub-penny "
                f"amounts; {summary.unchanged_lines} lines already in the ledger"
                + (f"; refused {summary.rejected} rows (see {refused.path})" if summary.rejected else "")
            )
            return
        counts = import_file(db, program, kind, file, fmt, skip_invalid=skip_invalid, rejects=rejects, progress=progress)
    notes = ""
    if counts.rejected:
        from .io.importers import default_rejects

        notes = f", refused {counts.rejected} (see {rejects or default_rejects(file)})"
    if counts.unpriced:
        notes += f"; {counts.unpriced} products without a price (history names them; the till cannot sell them)"
    typer.echo(f"{file}: read {counts.read} rows, wrote {counts.written}, {counts.unchanged} already in the ledger{notes}")


@contextmanager
def import_progress(file: Path):
    """A Rich progress bar on a terminal; nothing when output goes to a file or a pipe."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task(f"importing {file.name}", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


# -- the counter ----------------------------------------------------------------------------


MAX_QTY = 10_000
"""More units than this on one line is a typing mistake at a till."""


def parse_item(text: str) -> BasketLine:
    """``coffee`` or ``coffee:3``."""
    product, _, qty = text.partition(":")
    if not product:
        raise LedgerError(f"item {text!r}: expected PRODUCT or PRODUCT:QTY")
    try:
        count = int(qty) if qty else 1
    except ValueError:
        raise LedgerError(f"item {text!r}: the quantity must be a whole number") from None
    if not 1 <= count <= MAX_QTY:
        raise LedgerError(f"item {text!r}: the quantity must be between 1 and {MAX_QTY}")
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
    moment = instant(at)
    receipt = ledger.record_sale(db, program, basket, moment, sale_id or ledger.new_sale_id(moment), code=code)
    if as_json:
        print_json(receipt_json(program, receipt))
        return
    console.print(receipt_table(program, receipt))
    # Each on a line of its own: as the caption of a narrow receipt they wrapped mid-phrase.
    for note in receipt_notes(program, receipt):
        console.print(note)


def discount_label(discount) -> str:
    """How a receipt names a discount: "tier SILVER 5%", "code LSEMJ50 50%", "274 points"."""
    prefix = {"tier": "tier ", "code": "code ", "promotion": "promotion "}.get(discount.reason, "")
    return prefix + (discount.detail or discount.reason)


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
        discounts = "; ".join(f"{discount_label(d)} -{money(program, d.amount)}" for d in line.discounts)
        table.add_row(line.name, str(line.qty), money(program, line.unit_price), discounts, money(program, line.total))
    table.add_section()
    if priced.discount_total:
        table.add_row("subtotal", "", "", "", money(program, priced.subtotal))
        table.add_row("discounts", "", "", "", "-" + money(program, priced.discount_total))
    table.add_row("[bold]total[/]", "", "", "", f"[bold]{money(program, priced.total)} {program.currency}[/]")
    return table


def receipt_notes(program: Program, receipt: ledger.Receipt) -> list[str]:
    """What the sale did for the member: points, the tier, the programme's messages."""
    priced = receipt.quote
    after = priced.status_after
    notes = []
    if program.points is not None and receipt.member_id:
        notes.append(f"points earned {priced.points_earned + priced.points_bonus}, spent {priced.points_redeemed}, balance {receipt.points_balance}")
        notes += [period_note(period) for period in priced.points_periods]
    if after is not None and after.tier is not None:
        before = priced.status_before.tier if priced.status_before else None
        if before is not None and before.name != after.tier.name:
            notes.append(f"this purchase takes you to {after.tier.name}")
        else:
            notes.append(f"tier {after.tier.name}")
    for message in priced.messages:
        notes.append(message)
    return notes


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
    console.print(table)
    if receipt.points_clawed_back or receipt.points_restored:
        # A line of its own: as the caption of this narrow table it wrapped mid-phrase.
        console.print(f"points taken back {receipt.points_clawed_back}, given back {receipt.points_restored}")


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
    after: Annotated[int, typer.Option("--after", help="Events: only those after this event id.")] = 0,
    cursor: Annotated[
        Optional[Path], typer.Option("--cursor", help="Events: a file holding the last id handled; read, then advanced.")
    ] = None,
) -> None:
    """Export members, memberships, products, codes, sales, every member's status, or the outbox of events.

    Example: pos-loyalty export events --format jsonl --cursor mailer.cursor
    """
    if kind not in EXPORTS:
        raise LedgerError(f"cannot export {kind!r} (expected one of: {', '.join(EXPORTS)})")
    if fmt not in ("csv", "json", "jsonl"):
        raise LedgerError(f"unknown format {fmt!r} (expected csv, json or jsonl)")
    db, program = state(ctx).open()
    last_seen = [after]
    if kind == "events":
        if cursor is not None and cursor.exists():
            text = cursor.read_text().strip()
            if not text.isdigit():
                raise InputError(cursor, f"holds {text[:20]!r}, not an event id")
            last_seen[0] = max(after, int(text))

        def events():
            for row in event_rows(db, last_seen[0]):
                last_seen[0] = row["event_id"]
                yield row

        rows, flatten = events(), flatten_event
    else:
        rows = ROWS[kind](db, program, instant(as_of), personal)
        flatten = flatten_status if kind == "status" else None
    header = csv_header(kind, program, personal) if fmt == "csv" else None
    if output is None:
        count = write_rows(rows, sys.stdout, fmt, flatten, header)
        sys.stdout.flush()
    else:
        with output.open("w", encoding="utf-8", newline="") as out:
            count = write_rows(rows, out, fmt, flatten, header)
        typer.echo(f"{output}: {count} {kind} rows", err=True)
    if kind == "events" and cursor is not None:
        # Advanced only after the events are written out, via a rename so a crash leaves old or new.
        scratch = cursor.with_name(cursor.name + ".tmp")
        scratch.write_text(f"{last_seen[0]}\n")
        scratch.replace(cursor)


# -- members, points, codes ----------------------------------------------------------------

def sub_app(help_text: str) -> typer.Typer:
    return typer.Typer(cls=LoyaltyGroup, help=help_text, no_args_is_help=True)


members_app = sub_app("Enrol, look up, resign, rejoin and erase members.\n\nExample: pos-loyalty members list --sort spend")
points_app = sub_app("Points corrections with a reason, and the nightly expiry.\n\nExample: pos-loyalty points adjust kris 100 --reason goodwill")
codes_app = sub_app("Single-use scratch-off discount codes.\n\nExample: pos-loyalty codes issue 20")
report_app = sub_app("Programme results for the manager.\n\nExample: pos-loyalty report tiers --json")
app.add_typer(members_app, name="members")
app.add_typer(points_app, name="points")
app.add_typer(codes_app, name="codes")
app.add_typer(report_app, name="report")

MemberArg = Annotated[str, typer.Argument(help="The member's id.", show_default=False)]
AtOption = Annotated[Optional[str], typer.Option("--at", help="When it happens (default: now).")]


@members_app.command("add")
def members_add(
    ctx: typer.Context,
    member: MemberArg,
    name: Annotated[str, typer.Option("--name", help="The member's name.")] = "",
    email: Annotated[Optional[str], typer.Option("--email", help="E-mail address.")] = None,
    phone: Annotated[Optional[str], typer.Option("--phone", help="Phone number.")] = None,
    birthday: Annotated[Optional[str], typer.Option("--birthday", help="Birthday, e.g. 1990-05-17.")] = None,
    at: AtOption = None,
) -> None:
    """Enrol a new member (they join the programme now, or --at).

    Example: pos-loyalty members add m-1001 --name "Ada Lovelace" --email ada@example.com
    """
    from .ledger.timestamps import parse_day

    db, program = state(ctx).open()
    day = parse_day(birthday).isoformat() if birthday else None
    ledger.add_member(db, program, member, instant(at), name=name, email=email, phone=phone, birthday=day)
    typer.echo(f"{member}: enrolled")


@members_app.command("show")
def members_show(ctx: typer.Context, member: MemberArg, as_of: AsOf = None, as_json: JsonFlag = False) -> None:
    """A member's details, status, recent sales and point movements.

    Example: pos-loyalty members show kris --json
    """
    db, program = state(ctx).open()
    row = db.execute(
        "SELECT member_id, name, email, phone, birthday, created_at, erased_at FROM members WHERE member_id = ?",
        [member],
    ).fetchone()
    if row is None:
        raise LedgerError(f"unknown member {member!r}")
    moment = instant(as_of)
    result = member_status(program, ledger.load_member_facts(db, member), moment)
    sales = [
        {"sale_id": sid, "ts": ts, "kind": kind, "total": money(program, total)}
        for sid, ts, kind, total in db.execute(
            "SELECT sale_id, ts, kind, total FROM sales"
            " WHERE sale_id IN (SELECT sale_id FROM sale_lines WHERE member_id = ? AND ts <= ?)"
            " ORDER BY ts DESC, sale_id DESC LIMIT 20",
            [member, ledger.ts_text(moment)],
        )
    ]
    movements = [
        {"ts": ledger.ts_text(m.ts), "kind": m.kind, "points": m.points, "reason": m.reason or None, "sale_id": m.sale_id}
        for m in point_history(db, member, limit=20)
    ]
    keys = ("member_id", "name", "email", "phone", "birthday", "created_at", "erased_at")
    details = dict(zip(keys, row))
    if as_json:
        print_json({**details, "status": status_json(program, result), "sales": sales, "point_movements": movements})
        return
    console.print(status_table(program, result))
    labels = {"email": "e-mail", "phone": "phone", "birthday": "birthday", "created_at": "enrolled", "erased_at": "erased"}
    shown = {**details, "created_at": when_text(details["created_at"]), "erased_at": when_text(details["erased_at"])}
    console.print(" · ".join(f"{label} {shown[key]}" for key, label in labels.items() if shown[key]))
    if sales:
        history = Table(title="recent sales and returns")
        for column in ("sale", "when", "kind", "total"):
            history.add_column(column, justify="right" if column == "total" else "left")
        for sale in sales:
            history.add_row(sale["sale_id"], when_text(sale["ts"]), sale["kind"], sale["total"])
        console.print(history)
    else:
        console.print("No sales or returns yet.")
    if movements:
        moves = Table(title="point movements")
        for column in ("when", "kind", "points", "reason"):
            moves.add_column(column, justify="right" if column == "points" else "left")
        for m in movements:
            moves.add_row(when_text(m["ts"]), m["kind"], str(m["points"]), m["reason"] or m["sale_id"] or "")
        console.print(moves)


SORTS = {
    "id": "m.member_id",
    "name": "m.name COLLATE NOCASE, m.member_id",
    "spend": "coalesce(s.spend - s.refunds, 0) DESC, m.member_id",
    "points": "coalesce(s.points_net, 0) DESC, m.member_id",
    "last-visit": "s.last_visit DESC NULLS LAST, m.member_id",
}


@members_app.command("list")
def members_list(
    ctx: typer.Context,
    search: Annotated[Optional[str], typer.Option("--search", help="Part of an id, name, e-mail or phone.")] = None,
    sort: Annotated[str, typer.Option("--sort", help=f"One of: {', '.join(SORTS)}.")] = "id",
    limit: Annotated[int, typer.Option("--limit", help="How many rows.", min=1, max=100_000)] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many rows first.", min=0, max=10**9)] = 0,
    as_json: JsonFlag = False,
) -> None:
    """List members with their visits, spend, points and last visit.

    Example: pos-loyalty members list --search ada --sort spend --limit 20
    """
    if sort not in SORTS:
        raise LedgerError(f"cannot sort by {sort!r} (expected one of: {', '.join(SORTS)})")
    db, program = state(ctx).open()
    if sort == "points" and not program.points:
        raise LedgerError(f"cannot sort by points: {program.title} has no points (sort by one of: id, name, spend, last-visit)")
    where, params = "", []
    if search:
        where = "WHERE m.member_id LIKE ? OR m.name LIKE ? OR m.email LIKE ? OR m.phone LIKE ?"
        params = [f"%{search}%"] * 4
    rows = [
        {
            "member_id": mid,
            "name": name,
            "visits": visits or 0,
            "spend": money(program, spend or 0),
            "points": points or 0,
            "last_visit": last,
        }
        for mid, name, visits, spend, points, last in db.execute(
            f"""
            SELECT m.member_id, m.name, s.visits, s.spend - s.refunds, s.points_net, s.last_visit
              FROM members m LEFT JOIN member_summary s ON s.member_id = m.member_id
              {where} ORDER BY {SORTS[sort]} LIMIT ? OFFSET ?
            """,
            [*params, limit, offset],
        )
    ]
    if as_json:
        print_json(rows)
        return
    # A programme without points has no points to show (as the back office's member list).
    columns = ("member", "name", "visits", "spend", *(("points",) if program.points else ()), "last visit")
    table = Table(title="members")
    for column in columns:
        table.add_column(column, justify="right" if column in ("visits", "spend", "points") else "left")
    for r in rows:
        cells = {
            "member": r["member_id"], "name": r["name"] or "", "visits": str(r["visits"]), "spend": r["spend"],
            "points": str(r["points"]), "last visit": when_text(r["last_visit"]),
        }
        table.add_row(*(cells[column] for column in columns))
    console.print(table)


def _membership(ctx: typer.Context, member: str, at: str | None, status: str, word: str) -> None:
    db, program = state(ctx).open()
    ledger.change_membership(db, program, member, instant(at), status)
    typer.echo(f"{member}: {word}")


@members_app.command("resign")
def members_resign(ctx: typer.Context, member: MemberArg, at: AtOption = None) -> None:
    """Record that a member leaves the programme (their history stays).

    Example: pos-loyalty members resign kris --at 2026-06-01
    """
    _membership(ctx, member, at, "resigned", "resigned")


@members_app.command("rejoin")
def members_rejoin(ctx: typer.Context, member: MemberArg, at: AtOption = None) -> None:
    """Record that a member joins the programme again.

    Example: pos-loyalty members rejoin kris
    """
    _membership(ctx, member, at, "active", "rejoined")


@members_app.command("erase")
def members_erase(
    ctx: typer.Context,
    member: MemberArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    at: AtOption = None,
    pin: PinOption = None,
) -> None:
    """Erase a member's personal data; their amounts and history stay, anonymised (manager only).

    Example: pos-loyalty members erase kris --yes
    """
    db, _ = state(ctx).open()
    require_manager(db, pin)
    if not yes and not typer.confirm(f"Erase {member}'s name, e-mail, phone and birthday for good?"):
        raise typer.Exit(1)
    ledger.erase_member(db, member, instant(at))
    typer.echo(f"{member}: personal data erased")


@points_app.command("adjust", context_settings={"ignore_unknown_options": True})
def points_adjust(
    ctx: typer.Context,
    member: MemberArg,
    points: Annotated[int, typer.Argument(help="Points to add (negative to take away).", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the audit trail).", show_default=False)],
    at: AtOption = None,
    pin: PinOption = None,
) -> None:
    """Add or take away points with a recorded reason (manager only).

    Example: pos-loyalty points adjust kris 250 --reason "coffee machine broke, apology"
    """
    db, program = state(ctx).open()
    require_manager(db, pin)
    balance = ledger.adjust_points(db, program, member, points, reason, instant(at))
    typer.echo(f"{member}: {points:+d} points ({reason}); balance {balance}")


@points_app.command("expire")
def points_expire(ctx: typer.Context, as_of: AsOf = None) -> None:
    """Write the expiry of every points lot that has lapsed, so the member list and its points
    totals count live points only (a nightly job; run again, it changes nothing).

    A lapsed lot has already left the member's balance: the till and the status never count it.

    Example: pos-loyalty points expire    # from cron, e.g. at 02:00
    """
    db, program = state(ctx).open()
    if program.points is None:
        raise LedgerError("this programme has no points")
    moment = instant(as_of)
    if moment > instant(None):
        raise LedgerError(f"--as-of {ledger.ts_text(moment)} is in the future: points expire when their time comes")
    members, points = ledger.expire_all_lapsed(db, program, moment)
    whose = f"{members} member{'' if members == 1 else 's'}"
    typer.echo(f"{points} lapsed points of {whose} written as expired (as of {ledger.ts_text(moment)})")


@codes_app.command("issue")
def codes_issue(
    ctx: typer.Context,
    count: Annotated[int, typer.Argument(help="How many codes.", show_default=False)],
    max_percent: Annotated[int, typer.Option("--max-percent", help="The highest percentage (at most 50).")] = 50,
    step: Annotated[int, typer.Option("--step", help="Percentages are multiples of this.")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Issue unique single-use codes worth a random percentage, printed as CSV (code,percent) for
    the card printer; the same file imports into another ledger with ``import codes``.

    Example: pos-loyalty codes issue 100 --max-percent 50 --step 5 > cards.csv
    """
    db, _ = state(ctx).open()
    issued = ledger.issue_codes(db, count, instant(None), max_percent=max_percent, step=step)
    if as_json:
        print_json([{"code": code, "percent": str(percent)} for code, percent in issued])
        return
    typer.echo("code,percent")
    for code, percent in issued:
        typer.echo(f"{code},{percent}")


@codes_app.command("list")
def codes_list(
    ctx: typer.Context,
    unused: Annotated[bool, typer.Option("--unused", help="Only codes not yet redeemed.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List codes with their percentage and the sale that redeemed them.

    Example: pos-loyalty codes list --unused
    """
    db, _ = state(ctx).open()
    rows = [
        {"code": code, "percent": percent, "issued_at": issued, "sale_id": sale}
        for code, percent, issued, sale in db.execute(
            """
            SELECT c.code, c.percent, c.issued_at, r.sale_id FROM codes c
              LEFT JOIN code_redemptions r ON r.code = c.code
             WHERE ? = 0 OR r.sale_id IS NULL ORDER BY c.code
            """,
            [1 if unused else 0],
        )
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="discount codes")
    for column in ("code", "percent", "redeemed by"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["code"], f"{r['percent']} %", r["sale_id"] or "-")
    console.print(table)


# -- reports --------------------------------------------------------------------------------


@report_app.command("tiers")
def report_tiers(ctx: typer.Context, as_of: AsOf = None, as_json: JsonFlag = False) -> None:
    """Active members per tier as of an instant (the segmentation).

    Example: pos-loyalty report tiers --as-of 2026-06-30T12:00 --json
    """
    from .reports import tier_segments

    db, program = state(ctx).open()
    segments = tier_segments(db, program, instant(as_of))
    if as_json:
        print_json([{"tier": s.tier, "rank": s.rank, "members": s.members} for s in segments])
        return
    table = Table(title="members per tier")
    for column in ("rank", "tier", "members", ""):
        table.add_column(column)
    top = max((s.members for s in segments), default=0) or 1
    for s in segments:
        table.add_row(str(s.rank), s.tier, str(s.members), "█" * round(30 * s.members / top))
    console.print(table)


@report_app.command("discounts")
def report_discounts(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Orders and averages per discount-code percentage (the discounting recipe's analysis).

    Example: pos-loyalty report discounts --json
    """
    from .engine.money import format_number
    from .reports import discount_analysis

    db, program = state(ctx).open()
    rows = [
        {
            "percent": format_number(r.percent),
            "orders": r.orders,
            "avg_items": r.avg_items,
            "avg_subtotal": money(program, r.avg_subtotal),
            "avg_total": money(program, r.avg_total),
            "avg_discount": money(program, r.avg_discount),
        }
        for r in discount_analysis(db, program)
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("No sales with a discount code yet.")
        return
    title = "discount codes: orders and averages per percentage"
    table = Table(title=title, min_width=len(title) + 4)
    for column in rows[0]:
        table.add_column(column.replace("_", " "), justify="right")
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    console.print(table)


def ratio_text(ratio, places: int) -> str:
    """An exact ratio as decimal text, rounded half-up (no float on the way)."""
    from .engine.money import round_half_up

    return format_amount(round_half_up(ratio * 10**places), places)


@report_app.command("kpis")
def report_kpis(
    ctx: typer.Context,
    as_of: AsOf = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Start of the period (default: 30 days before).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Sign-ups, active members, repeat rate, tier moves and the points economy.

    Example: pos-loyalty report kpis --since 2026-01-01 --as-of 2026-06-30
    """
    from .reports import kpis

    db, program = state(ctx).open()
    k = kpis(db, program, instant(as_of), parse_ts(since) if since else None)
    data = {
        "since": ledger.ts_text(k.since),
        "as_of": ledger.ts_text(k.as_of),
        "members": k.members,
        "sign_ups_by_month": [{"month": m, "sign_ups": n} for m, n in k.sign_ups_by_month],
        "active_members": k.active_members,
        "repeat_rate": None if k.repeat_rate is None else ratio_text(k.repeat_rate, 3),
        "tier_upgrades": k.upgrades,
        "tier_downgrades": k.downgrades,
        "points_earned": k.points_earned,
        "points_redeemed": k.points_redeemed,
        "points_expired": k.points_expired,
        "earn_to_burn": None if k.earn_to_burn is None else ratio_text(k.earn_to_burn, 2),
        "outstanding_points": k.outstanding_points,
    }
    if as_json:
        print_json(data)
        return
    title = f"KPIs {k.since:%Y-%m-%d %H:%M} – {k.as_of:%Y-%m-%d %H:%M}"
    table = Table(title=title, show_header=False, min_width=len(title) + 4)  # the period on one line
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in data.items():
        if key in ("since", "as_of", "sign_ups_by_month"):
            continue
        table.add_row(key.replace("_", " "), "-" if value is None else str(value))
    console.print(table)
    if k.sign_ups_by_month:
        months = Table(title="sign-ups per month")
        months.add_column("month")
        months.add_column("sign-ups", justify="right")
        for month, count in k.sign_ups_by_month:
            months.add_row(month, str(count))
        console.print(months)


@report_app.command("promotions")
def report_promotions(ctx: typer.Context, as_of: AsOf = None, as_json: JsonFlag = False) -> None:
    """Per promotion: members who qualify now, and what it has given at the till.

    Example: pos-loyalty report promotions --json
    """
    from .reports import promotion_reach

    db, program = state(ctx).open()
    rows = [
        {"promotion": r.name, "qualifying": r.qualifying, "given": r.given, "discount": money(program, r.discount)}
        for r in promotion_reach(db, program, instant(as_of))
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="promotion reach")
    for column in ("promotion", "qualifying", "given", "discount"):
        table.add_column(column)
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    console.print(table)


# -- simulate and verify --------------------------------------------------------------------


@app.command()
def simulate(
    members: Annotated[int, typer.Option("--members", help="How many synthetic customers.")] = 200,
    days: Annotated[int, typer.Option("--days", help="How many days of visits.")] = 90,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same customers.")] = 1,
    program: Annotated[Path, typer.Option("--program", help="The programme to run.")] = shipped_program("points"),
    compare: Annotated[Optional[Path], typer.Option("--compare", help="A second programme, same customers.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run synthetic customers through a programme in a scratch ledger, to tune it before launch.

    Example: pos-loyalty simulate --members 500 --days 180 --seed 7 --compare fixtures/programs/coffee_shop.toml
    """
    from .simulate import simulate as run_simulation

    if members < 1 or days < 1:
        raise LedgerError("--members and --days must be at least 1")
    files = [program] + ([compare] if compare else [])
    for file in files:
        if not file.exists():
            raise InputError(file, "no such file")
    results = [run_simulation(f.read_text(encoding="utf-8"), members, days, seed) for f in files]
    rows = [dict(_simulation_rows(r)) for r in results]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"simulation: {members} customers over {days} days (seed {seed})")
    table.add_column("")
    for r in results:
        table.add_column(r.program, justify="right")
    # Like rows together whichever programme has them: totals, reward costs, points, then tiers.
    groups = ("cost_", ("points_", "liability_"), "tier_")
    labels = sorted(
        dict.fromkeys(label for r in rows for label in r),
        key=lambda label: next((i for i, prefix in enumerate(groups, start=1) if label.startswith(prefix)), 0),
    )
    for label in labels:
        table.add_row(label.replace("_", " "), *(str(r.get(label, "-")) for r in rows))
    console.print(table)


def _simulation_rows(r) -> list[tuple[str, object]]:
    def cash(minor: int) -> str:
        return format_amount(minor, r.decimals) + " " + r.currency

    from .engine import format_amount

    rows: list[tuple[str, object]] = [
        ("visits", r.visits),
        ("revenue", cash(r.revenue)),
        ("list_value", cash(r.list_value)),
        ("reward_cost", cash(r.reward_cost)),
        ("reward_cost_share", f"{100 * r.reward_cost / r.list_value:.1f} %" if r.list_value else "-"),
    ]
    rows += [(f"cost_{reason}", cash(amount)) for reason, amount in sorted(r.rewards.items())]
    rows += [(f"tier_{s.tier}", s.members) for s in r.segments]
    rows += [
        ("points_earned", r.points_earned),
        ("points_redeemed", r.points_redeemed),
        ("points_liability", r.points_liability),
        ("liability_value", cash(r.liability_value)),
    ]
    return rows


@app.command()
def backup(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="Where the copy goes (must not exist).", show_default=False)],
) -> None:
    """Copy the ledger consistently while tills keep selling, then verify the copy.

    Example: pos-loyalty backup /mnt/usb/shop-2026-11-25.db
    """
    from .ledger.verify import verify as run_verify

    db, _ = state(ctx).open()
    copy = ledger.backup(db, target)
    faults = run_verify(ledger.connect(copy))
    for fault in faults:
        typer.echo(f"fault in the copy: {fault}", err=True)
    if faults:
        raise typer.Exit(1)
    typer.echo(f"{copy}: backed up and verified ({copy.stat().st_size:,} bytes)")


@app.command()
def verify(ctx: typer.Context) -> None:
    """Check the ledger's integrity and that its caches agree with its facts; exit 1 on any fault.

    Example: pos-loyalty verify
    """
    from .ledger.verify import verify as run_verify

    db, _ = state(ctx).open()
    faults = run_verify(db)
    for fault in faults:
        typer.echo(f"fault: {fault}", err=True)
    if faults:
        raise typer.Exit(1)
    counts = db.execute("SELECT (SELECT count(*) FROM sales), (SELECT count(*) FROM members)").fetchone()
    typer.echo(f"ok: {counts[0]} sales and returns, {counts[1]} members, caches agree")


# -- demo and TUI ---------------------------------------------------------------------------


@app.command()
def demo(
    as_of: AsOf = None,
    table: Annotated[bool, typer.Option("--table", help="Print the members' statuses instead of opening the TUI.")] = False,
) -> None:
    """Build a fresh demo ledger from the coffee-shop recipe's rows and open the till on it.

    Example: pos-loyalty demo
    """
    from .demo import build_demo
    from .paths import data_dir

    path = data_dir() / "demo.db"
    db, program = build_demo(path)
    if not table:
        db.close()
        open_tui(path)
        return
    moment = instant(as_of)
    overview = Table(title=f"{program.title}: demo ledger {path}")
    for column in ("member", "tier", "spend", "to next", "coffee card", "promotions"):
        overview.add_column(column)
    for (member_id,) in db.execute("SELECT member_id FROM members ORDER BY member_id"):
        result = member_status(program, ledger.load_member_facts(db, member_id), moment)
        tier = result.tier
        card = result.stamp_cards[0] if result.stamp_cards else None
        overview.add_row(
            f"{result.name} ({member_id})",
            tier.name if tier else "-",
            money(program, tier.basis) if tier else "-",
            f"{money(program, tier.to_next)} to {tier.next}" if tier and tier.next else "-",
            ("next one free" if card.next_free else f"{card.position}/{card.buy}") if card else "-",
            ", ".join(p.name for p in result.promotions) or "-",
        )
    console.print(overview)
    typer.echo(f"Try: pos-loyalty --db {path} sell yeva coffee --json")


@app.command()
def tui(ctx: typer.Context) -> None:
    """Open the till (the counter screen; the back office behind F10).

    Example: pos-loyalty --db shop.db tui
    """
    open_tui(state(ctx).db_path)


def open_tui(path: Path) -> None:
    """Run the Textual app on a ledger (imported only now: the CLI starts without Textual)."""
    from .tui.app import make_app

    make_app(path).run()


@app.command("manager-pin")
def manager_pin(
    ctx: typer.Context,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the PIN: the back office opens without one.")] = False,
    pin: PinOption = None,
) -> None:
    """Set the PIN that guards the back office (stored as a salted scrypt hash, never as text).

    Example: pos-loyalty manager-pin
    """
    from .ledger.access import clear_pin, set_pin

    db, _ = state(ctx).open()
    require_manager(db, pin)
    if clear:
        clear_pin(db)
        typer.echo("manager PIN removed")
        return
    new_pin = typer.prompt("New manager PIN (4-12 digits)", hide_input=True, confirmation_prompt=True)
    set_pin(db, new_pin)
    typer.echo("manager PIN set")


def main() -> None:
    """Console-script entry point."""
    app()
