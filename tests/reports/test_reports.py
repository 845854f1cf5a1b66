"""Manager reports, through the CLI, against the fixtures' independent figures and plain SQL."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pos_loyalty import ledger
from pos_loyalty.cli import app
from pos_loyalty.engine import member_status
from pos_loyalty.ledger.bulk import tier_bases
from pos_loyalty.engine.status import tier_basis
from pos_loyalty.paths import FIXTURES, PROGRAMS

from ..support import coffee_ledger, tiered_ledger

runner = CliRunner()


def cli(db: Path, *args: str):
    result = runner.invoke(app, ["--db", str(db), *args])
    assert result.exit_code == 0, result.output
    return result


def built(tmp_path: Path, program: str, folder: str, kinds: list[str]) -> Path:
    db = tmp_path / "shop.db"
    cli(db, "init", "--program", str(PROGRAMS / f"{program}.toml"))
    for kind in kinds:
        cli(db, "import", kind, str(FIXTURES / folder / f"{kind}.csv"))
    return db


def test_report_discounts_reproduces_the_recipe_table(tmp_path):
    """Cent-exact per order, so two cells differ by a cent from ksqlDB's doubles (named in expected.json)."""
    db = built(tmp_path, "coffee_shop", "discounting", ["codes", "products", "sales"])
    rows = json.loads(cli(db, "report", "discounts", "--json").stdout)
    expected = json.loads((FIXTURES / "discounting" / "expected.json").read_text())
    assert set(rows[0]) == {"percent", "orders", "avg_items", "avg_subtotal", "avg_total", "avg_discount"}
    assert rows == expected["cent_exact"]
    recipe = {r["percent"]: r for r in expected["recipe"]}
    differing = {(r["percent"], k) for r in rows for k in r if r[k] != recipe[r["percent"]][k]}
    assert differing == {("25", "avg_discount"), ("50", "avg_total")}


def test_report_discounts_without_any_code_sale_says_so(tmp_path):
    db = built(tmp_path, "coffee_shop", "coffee_shop", ["products", "members", "sales"])
    assert json.loads(cli(db, "report", "discounts", "--json").stdout) == []
    assert cli(db, "report", "discounts").stdout.strip() == "No sales with a discount code yet."
    # The recipe's table, printed for a person: a row per percentage under the column names.
    db = built(tmp_path / "codes", "coffee_shop", "discounting", ["codes", "products", "sales"])
    shown = cli(db, "report", "discounts").stdout
    expected = json.loads((FIXTURES / "discounting" / "expected.json").read_text())["cent_exact"]
    assert "avg subtotal" in shown
    for row in expected:
        assert any(line.split("│")[1:3] and line.split("│")[1].strip() == row["percent"]
                   and line.split("│")[2].strip() == str(row["orders"]) for line in shown.splitlines()), row


def test_report_tiers_is_the_seed_segmentation(tmp_path):
    db = built(tmp_path, "tiered_pln", "tiered_pln", ["members", "memberships", "products", "sales"])
    expected = json.loads((FIXTURES / "tiered_pln" / "expected.json").read_text())
    rows = json.loads(cli(db, "report", "tiers", "--as-of", expected["as_of"], "--json").stdout)
    assert [set(r) for r in rows][0] == {"tier", "rank", "members"}
    want = expected["segments"]
    if isinstance(want, list):
        want = {s["tier"]: s["members"] for s in want}
    assert {r["tier"]: r["members"] for r in rows} == want


@pytest.mark.parametrize("build", [coffee_ledger, tiered_ledger])
def test_bulk_tier_bases_equal_the_engine_member_by_member(build):
    """The report's set-at-a-time SQL is held to the engine's definition for every member."""
    db, program = build()
    for as_of in (datetime(2025, 12, 31), datetime(2026, 3, 3), datetime(2026, 6, 30, 12), datetime(2027, 1, 1)):
        bulk = tier_bases(db, program, as_of)
        for member_id, (active, basis) in bulk.items():
            facts = ledger.load_member_facts(db, member_id)
            status = member_status(program, facts, as_of)
            lines = [line for line in facts.lines if line.ts <= as_of]
            assert active == status.active, (member_id, as_of)
            assert basis == tier_basis(program, facts, lines, as_of), (member_id, as_of)


def test_kpis_against_plain_sql(tmp_path):
    db_path = built(tmp_path, "points", "coffee_shop", ["members", "products"])
    for member, at in (("kris", "2026-03-10T10:00"), ("kris", "2026-03-20T10:00"), ("dave", "2026-03-21T10:00")):
        cli(db_path, "sell", member, "coffee:2", "--at", at)
    cli(db_path, "sell", "yeva", "beret", "--at", "2026-03-22T10:00", "--redeem-points", "100")
    data = json.loads(cli(db_path, "report", "kpis", "--since", "2026-03-01", "--as-of", "2026-03-31", "--json").stdout)
    db = ledger.connect(db_path)
    buyers = Counter(m for (m,) in db.execute("SELECT member_id FROM sales WHERE kind = 'sale' AND member_id IS NOT NULL"))
    assert data["active_members"] == len(buyers) == 3
    assert data["repeat_rate"] == f"{sum(1 for n in buyers.values() if n >= 2) / len(buyers):.3f}"
    earned = db.execute("SELECT sum(points) FROM point_movements WHERE kind IN ('earn', 'bonus') AND ts > '2026-03-01'").fetchone()[0]
    assert data["points_earned"] == earned
    assert data["points_redeemed"] == 100
    months = db.execute(
        "SELECT substr(min(ts), 1, 7), count(*) FROM memberships WHERE status = 'active' GROUP BY member_id"
    ).fetchall()
    assert {m["month"]: m["sign_ups"] for m in data["sign_ups_by_month"]} == dict(Counter(m for m, _ in months))
    balances = db.execute("SELECT sum(points) FROM point_movements").fetchone()[0]
    assert data["outstanding_points"] == balances  # nothing has expired yet


@pytest.mark.parametrize(
    "since, as_of",
    [("2025-06-30T12:00", "2026-06-30T12:00"), ("2025-12-31", "2026-06-30T12:00"), ("2026-03-31", "2026-09-30")],
)
def test_kpis_tier_moves_count_members_whose_tier_rose_or_fell_over_the_period(tmp_path, since, as_of):
    """Imported history (no till events) counts: each member's tier at both ends, from the engine."""
    db_path = built(tmp_path, "tiered_pln", "tiered_pln", ["members", "memberships", "products", "sales"])
    data = json.loads(cli(db_path, "report", "kpis", "--since", since, "--as-of", as_of, "--json").stdout)
    db = ledger.connect(db_path)
    program = ledger.load_program(db)

    def rank(member_id, at):
        status = member_status(program, ledger.load_member_facts(db, member_id), datetime.fromisoformat(at))
        return status.tier.rank if status.active and status.tier else None

    moves = Counter()
    for (member_id,) in db.execute("SELECT member_id FROM members"):
        start, end = rank(member_id, since), rank(member_id, as_of)
        if start is not None and end is not None and start != end:
            moves["up" if end > start else "down"] += 1
    assert moves["up"] and moves["down"]
    assert (data["tier_upgrades"], data["tier_downgrades"]) == (moves["up"], moves["down"])


def test_promotion_reach_counts_the_qualifying_members(tmp_path):
    db = built(tmp_path, "coffee_shop", "coffee_shop", ["members", "products", "sales"])
    rows = {r["promotion"]: r for r in json.loads(cli(db, "report", "promotions", "--as-of", "2026-03-03", "--json").stdout)}
    assert rows["loose_leaf"]["qualifying"] == 1  # kris, as the recipe says
    assert rows["french_poodle"]["qualifying"] == 0  # kris has no dog yet
    cli(db, "sell", "kris", "tea", "--at", "2026-03-04T09:00")  # the loose-leaf voucher: half price on tea
    rows = {r["promotion"]: r for r in json.loads(cli(db, "report", "promotions", "--as-of", "2026-03-05", "--json").stdout)}
    assert rows["loose_leaf"]["given"] == 1 and rows["loose_leaf"]["discount"] != "0.00"


def test_simulate_is_reproducible_and_compares_the_same_customers(tmp_path):
    args = ["simulate", "--members", "30", "--days", "20", "--seed", "3", "--json",
            "--compare", str(PROGRAMS / "coffee_shop.toml")]
    first = json.loads(cli(tmp_path / "unused.db", *args).stdout)
    again = json.loads(cli(tmp_path / "unused.db", *args).stdout)
    assert first == again
    points, coffee = first
    assert points["visits"] == coffee["visits"] > 0
    assert points["list_value"] == coffee["list_value"]  # same people, same baskets
    assert sum(v for k, v in points.items() if k.startswith("tier_")) == 30
    other = json.loads(cli(tmp_path / "unused.db", *args[:6], "4", "--json").stdout)
    assert other[0]["list_value"] != points["list_value"]
    # The table a manager reads keeps like rows together, whichever programme has them.
    shown = cli(tmp_path / "unused.db", *[a for a in args if a != "--json"]).stdout
    labels = [line.split("│")[1].strip() for line in shown.splitlines() if line.startswith("│")]
    kinds = [next((k for k in ("cost", "points", "tier") if label.startswith(k)), "total") for label in labels]
    kinds = ["points" if label.startswith("liability") else kind for label, kind in zip(labels, kinds)]
    assert kinds == sorted(kinds, key=["total", "cost", "points", "tier"].index), labels
    assert set(labels) == {key.replace("_", " ") for row in first for key in row}


def test_export_events_resumes_from_its_cursor(tmp_path):
    db = built(tmp_path, "coffee_shop", "coffee_shop", ["members", "products", "sales"])
    cursor = tmp_path / "mailer.cursor"
    cli(db, "sell", "dave", "dog", "--at", "2026-03-04T09:00")  # dave: BRONZE -> GOLD
    first = [json.loads(l) for l in cli(db, "export", "events", "--format", "jsonl", "--cursor", str(cursor)).stdout.splitlines()]
    assert [e["kind"] for e in first] == ["tier_changed"]
    assert first[0]["payload"] == {"direction": "up", "from": "BRONZE", "to": "GOLD"}
    assert cli(db, "export", "events", "--format", "jsonl", "--cursor", str(cursor)).stdout == ""
    cli(db, "sell", "kris", "dog", "--at", "2026-03-04T10:00")  # kris: CLIMBING -> SILVER, and french_poodle
    second = [json.loads(l) for l in cli(db, "export", "events", "--format", "jsonl", "--cursor", str(cursor)).stdout.splitlines()]
    assert {e["kind"] for e in second} == {"tier_changed", "promotion_met"}
    assert min(e["event_id"] for e in second) > first[0]["event_id"]
