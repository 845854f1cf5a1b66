"""The back office: PIN gate, the paged member list, a member's page and its actions, the report tabs."""

from __future__ import annotations

import time

from pos_loyalty import ledger
from pos_loyalty.engine import member_status
from pos_loyalty.ledger.access import set_pin
from pos_loyalty.ledger.verify import verify
from pos_loyalty.tui.app import LoyaltyApp, make_app
from pos_loyalty.tui.dialogs.adjust import AdjustPointsDialog
from pos_loyalty.tui.dialogs.confirm import ConfirmDialog
from pos_loyalty.tui.dialogs.pin import PinDialog
from pos_loyalty.tui.messages import Priced
from pos_loyalty.tui.screens.counter import CounterScreen
from pos_loyalty.tui.screens.member import MemberChanged, MemberLoaded, MemberScreen
from pos_loyalty.tui.screens import office as office_module
from pos_loyalty.tui.screens.office import BackOfficeScreen, MembersPaged, ReportReady
from pos_loyalty.tui.widgets.bar_chart import BarChart
from pos_loyalty.tui.widgets.member_table import PAGE_SIZE, MemberTable

from .conftest import NOW, fixed_clock, until

SIZE = (100, 30)


async def open_office(pilot, recorder) -> BackOfficeScreen:
    await pilot.press("f10")
    await until(pilot, lambda: isinstance(pilot.app.screen, BackOfficeScreen), what="back office open")
    await recorder.wait_for(pilot, MembersPaged)
    return pilot.app.screen


async def test_pin_gate(app, demo_path, recorder):
    """With a PIN set, F10 asks for it; a wrong one keeps the dialog open and is counted; the right one opens."""
    db = ledger.connect(demo_path)
    set_pin(db, "4321")
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, PinDialog))
        await pilot.press("1", "1", "1", "1", "enter")
        await recorder.wait_for(pilot, PinDialog.Checked)
        assert isinstance(app.screen, PinDialog)
        assert "wrong PIN" in str(app.screen.query_one("#hint").render())
        assert db.execute("SELECT value FROM settings WHERE key = 'manager_pin_failures'").fetchone() == ("1",)
        await pilot.press("4", "3", "2", "1", "enter")
        await until(pilot, lambda: isinstance(app.screen, BackOfficeScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, CounterScreen))


async def test_member_list_search_and_sort(app, recorder):
    """Search as you type narrows the list; F7 cycles the sort, F8 flips the order; Enter opens the member."""
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        office = await open_office(pilot, recorder)
        table = office.query_one(MemberTable)
        assert [m.member_id for m in table.members] == ["rick", "yeva", "dave", "kris"]  # by tier, highest first
        assert [m.tier for m in table.members] == ["GOLD", "SILVER", "BRONZE", "CLIMBING"]
        count = len(recorder.of(MembersPaged))
        await pilot.press("y")
        await recorder.wait_for(pilot, MembersPaged, lambda m: m.page.search == "y", after=count)
        assert [m.member_id for m in table.members] == ["yeva"]
        await pilot.press("backspace", "f7", "f7")  # tier -> spend -> last visit (no points in this programme)
        paged = await recorder.wait_for(pilot, MembersPaged, lambda m: m.page.sort == "last_visit" and not m.page.search)
        assert paged.members[0].member_id == "yeva"  # the handbag at 10:20 was the last purchase
        await pilot.press("f8")
        paged = await recorder.wait_for(pilot, MembersPaged, lambda m: m.page.sort == "last_visit" and not m.page.descending)
        assert paged.members[-1].member_id == "yeva"
        await pilot.press("enter")  # from the search box into the list
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MemberScreen))


async def test_member_list_pages_from_sql(demo_path, recorder):
    """More members than a page: the table holds one page and moving past its end fetches the next."""
    db = ledger.connect(demo_path)
    program = ledger.load_program(db)
    with ledger.write(db):
        for n in range(95):
            ledger.add_member(db, program, f"m{n:03d}", NOW, name=f"Member {n:03d}")
    db.conn.close()
    app = make_app(demo_path, clock=fixed_clock)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        office = await open_office(pilot, recorder)
        table = office.query_one(MemberTable)
        assert table.row_count == PAGE_SIZE and table.total == 99
        assert "1–40 of 99" in str(office.query_one("#list-info").render())
        table.focus()
        count = len(recorder.of(MembersPaged))
        await pilot.press("pagedown")
        paged = await recorder.wait_for(pilot, MembersPaged, after=count)
        assert paged.page.offset == PAGE_SIZE and table.first_row == PAGE_SIZE
        count = len(recorder.of(MembersPaged))
        await pilot.press("end")
        paged = await recorder.wait_for(pilot, MembersPaged, after=count)
        assert table.first_row + table.row_count == 99 and table.cursor_row == table.row_count - 1
        count = len(recorder.of(MembersPaged))
        await pilot.press("down")  # nothing after the last member
        await pilot.pause(0.1)
        assert len(recorder.of(MembersPaged)) == count
        await pilot.press("home")
        await recorder.wait_for(pilot, MembersPaged, lambda m: m.page.offset == 0, after=count)


async def test_member_page_actions(points_path, recorder):
    """A member's page: adjust points with a reason, resign and rejoin, erase personal data after confirming."""
    app = make_app(points_path, clock=fixed_clock)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        office = await open_office(pilot, recorder)
        office.show_member("kris")
        loaded = await recorder.wait_for(pilot, MemberLoaded)
        screen = app.screen
        assert isinstance(screen, MemberScreen) and loaded.details.name == "Kris"
        balance = loaded.status.points.balance

        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AdjustPointsDialog))
        await pilot.press("2", "5", "0", "enter", *"gift", "enter")
        await recorder.wait_for(pilot, MemberChanged, lambda m: m.what == "adjust")
        loaded = await recorder.wait_for(pilot, MemberLoaded, lambda m: m.status.points.balance == balance + 250)
        assert (loaded.points[0].kind, loaded.points[0].points, loaded.points[0].reason) == ("adjust", 250, "gift")

        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await recorder.wait_for(pilot, MemberLoaded, lambda m: not m.status.active)
        await pilot.press("j")
        await recorder.wait_for(pilot, MemberLoaded, lambda m: m.status.active and len(m.memberships) == 3)

        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")  # backing out writes nothing
        await until(pilot, lambda: app.screen is screen)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        loaded = await recorder.wait_for(pilot, MemberLoaded, lambda m: m.details.erased_at is not None)
        assert loaded.details.name == "" and loaded.details.email == ""

        db = ledger.connect(points_path)
        assert db.execute("SELECT name, email, phone FROM members WHERE member_id = 'kris'").fetchone() == (None, None, None)
        assert db.execute(
            "SELECT status FROM memberships WHERE member_id = 'kris' ORDER BY id"
        ).fetchall() == [("active",), ("resigned",), ("active",)]
        assert db.execute(
            "SELECT points, reason FROM point_movements WHERE member_id = 'kris' AND kind = 'adjust'"
        ).fetchall() == [(250, "gift")]

        # C takes the member to the counter.
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CounterScreen) and app.screen.draft.member_id == "kris")


async def test_redeem_points_at_the_counter(points_path, recorder):
    """Under the points programme: F6 spends points on the basket, the receipt says so."""
    db = ledger.connect(points_path)
    program = ledger.load_program(db)
    ledger.adjust_points(db, program, "rick", 500, "test float", NOW)
    balance = member_status(program, ledger.load_member_facts(db, "rick"), NOW).points.balance
    app = make_app(points_path, clock=fixed_clock)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        counter = app.screen
        counter.choose_member("rick")
        counter.add_product("beret", 1)
        await recorder.wait_for(pilot, Priced, lambda m: m.quote is not None and m.draft.member_id == "rick")
        await pilot.press("f6")
        await until(pilot, lambda: counter.app.screen is not counter)
        await pilot.press("3", "0", "0", "enter")
        priced = await recorder.wait_for(pilot, Priced, lambda m: m.draft.redeem_points == 300 and m.quote is not None)
        assert priced.quote.points_redeemed == 300
        assert "points" in [d.reason for line in priced.quote.lines for d in line.discounts]
        await pilot.press("f9")
        await until(pilot, lambda: counter.draft.empty)
        row = db.execute(
            "SELECT points_redeemed FROM sales WHERE member_id = 'rick' ORDER BY ts DESC LIMIT 1"
        ).fetchone()
        assert row == (300,)
        after = member_status(program, ledger.load_member_facts(db, "rick"), NOW).points.balance
        assert after == balance - 300 + priced.quote.points_earned + priced.quote.points_bonus


async def test_report_tabs(app, recorder):
    """Segments, KPIs, codes and rules load when their tab is first shown."""
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        office = await open_office(pilot, recorder)
        await pilot.press("f3")
        ready = await recorder.wait_for(pilot, ReportReady, lambda m: m.tab == "segments")
        assert [(s.tier, s.members) for s in ready.data] == [("CLIMBING", 1), ("BRONZE", 1), ("SILVER", 1), ("GOLD", 1)]
        assert [bar.value for bar in office.query_one(BarChart).bars] == [1, 1, 1, 1]
        await pilot.press("f4")
        ready = await recorder.wait_for(pilot, ReportReady, lambda m: m.tab == "kpis")
        assert ready.data.members == 4
        await pilot.press("f5")
        ready = await recorder.wait_for(pilot, ReportReady, lambda m: m.tab == "codes")
        assert ready.data == []
        await pilot.press("f6")
        await until(pilot, lambda: bool(office.query("#rules-text")), what="rules shown")
        rules = office.query_one("#rules-text")
        assert "more than 200.00 USD" in rules.source and "the 6th" in rules.source


async def test_enrol_from_the_office_and_a_refused_one(app, demo_path, recorder, monkeypatch):
    """F9 in the member list enrols (and opens the new member); a refusal is one notification."""
    from pos_loyalty.ledger import LedgerError
    from pos_loyalty.tui.dialogs.enrol import EnrolDialog
    from pos_loyalty.tui.messages import LedgerFailed, MemberEnrolled

    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        office = await open_office(pilot, recorder)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, EnrolDialog))
        await pilot.press(*"Bo Diddley", "enter")
        enrolled = await recorder.wait_for(pilot, MemberEnrolled)
        await until(pilot, lambda: isinstance(app.screen, MemberScreen), what="the new member opened")
        assert ledger.connect(demo_path).execute(
            "SELECT name FROM members WHERE member_id = ?", [enrolled.member_id]
        ).fetchone() == ("Bo Diddley",)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is office)

        def refuse(*args, **kwargs):
            raise LedgerError("the ledger is busy with another till")

        monkeypatch.setattr(app.till, "enrol", refuse)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, EnrolDialog))
        await pilot.press(*"Cy Twombly", "enter")
        failed = await recorder.wait_for(pilot, LedgerFailed)
        assert failed.action == "enrol" and "busy" in failed.reason
        await until(pilot, lambda: any("busy" in str(n.message) for n in app._notifications), what="notified")


async def test_a_launch_books_the_points_that_lapsed_and_the_list_shows_live_points(points_path, recorder, monkeypatch):
    """A shop that runs no nightly job: the TUI books the lapsed lots itself, a moment after launch,
    on its own connection; the member list then shows the points the status shows."""
    later = NOW.replace(year=NOW.year + 2)  # every sign-up bonus and purchase lot has lapsed
    db = ledger.connect(points_path)
    program = ledger.load_program(db)
    held = {m: p for m, p in db.execute("SELECT member_id, points_net FROM member_summary") if p}
    assert held and all(member_status(program, ledger.load_member_facts(db, m), later).points.balance == 0 for m in held)
    monkeypatch.setattr(LoyaltyApp, "HOUSEKEEPING_AFTER_S", 0.1)
    app = make_app(points_path, clock=lambda: later)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        booked = "SELECT count(*) FROM member_summary WHERE points_net != 0"
        await until(pilot, lambda: db.execute(booked).fetchone()[0] == 0, what="lapsed points booked")
        await open_office(pilot, recorder)
        paged = recorder.of(MembersPaged)[-1]
        assert {row.member_id for row in paged.page.rows} >= set(held)
        assert all(row.points_net == 0 for row in paged.page.rows)
    assert verify(db) == []


async def test_the_list_tells_a_member_without_a_name_from_an_erased_one(demo_path, recorder):
    """Imported customers often have no name (the Online Retail file has none): they are not erased."""
    db = ledger.connect(demo_path)
    program = ledger.load_program(db)
    ledger.add_member(db, program, "c12346", NOW, name="")
    ledger.erase_member(db, "dave", NOW)
    app = make_app(demo_path, clock=fixed_clock)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        office = await open_office(pilot, recorder)
        table = office.query_one(MemberTable)
        shown = {row[0].plain: row[1].plain for row in table._rows}
        assert shown["c12346"] == "(no name)" and shown["dave"] == "(erased)" and shown["yeva"] == "Yeva"
        office.show_member("c12346")
        await recorder.wait_for(pilot, MemberLoaded, lambda m: m.details.member_id == "c12346")
        await until(pilot, lambda: "(no name)" in str(app.screen.query_one("#shop-title").render()))


async def test_points_are_listed_and_sorted_on_only_where_the_programme_has_them(demo_path, points_path, recorder):
    """The coffee shop has no points: no column of zeros, and F7 never sorts by them; the points
    programme lists each member's points and sorts by them."""
    for path, has_points in ((demo_path, False), (points_path, True)):
        app = make_app(path, clock=fixed_clock)
        async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
            office = await open_office(pilot, recorder)
            table = office.query_one(MemberTable)
            labels = [column.label for column in table.columns]
            assert ("Points" in labels) is has_points
            assert all(len(row) == len(labels) for row in table._rows)
            seen = set()
            for _ in range(6):
                await pilot.press("f7")
                seen.add(office.sort)
            assert ("points" in seen) is has_points


async def test_a_members_sales_show_what_was_bought_and_paid_first_at_80_columns(demo_path, points_path, recorder):
    """The sale id (23 characters at a till) comes last, after the items and total, and points only
    where the programme has them; at 80 columns the total is on screen without scrolling."""
    for path, has_points in ((demo_path, False), (points_path, True)):
        app = make_app(path, clock=fixed_clock)
        async with app.run_test(size=(80, 24), message_hook=recorder) as pilot:
            office = await open_office(pilot, recorder)
            office.show_member("rick")
            loaded = await recorder.wait_for(pilot, MemberLoaded, lambda m: m.details.member_id == "rick")
            history = app.screen.query_one("#history")
            labels = [str(column.label) for column in history.columns.values()]
            assert labels == ["When", "Kind", "Items", "Total", *(["Points"] if has_points else []), "Sale"]
            total = sum(column.get_render_width(history) for column in list(history.columns.values())[:4])
            assert history.region.right <= 80 and total <= history.size.width
            assert len(loaded.sales) == history.row_count > 0


async def test_enter_in_the_search_opens_a_member_it_found_not_one_listed_before(app, recorder, monkeypatch):
    """A slow search (100,000 members): "dave", Enter, and Enter again before the search has answered
    must not open rick, first on the list before the search; the list takes the keys once it is dave's."""
    real = office_module.fetch_page

    def slow(till, search, *args):
        if search:
            time.sleep(0.4)
        return real(till, search, *args)

    monkeypatch.setattr(office_module, "fetch_page", slow)
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        office = await open_office(pilot, recorder)
        table = office.query_one(MemberTable)
        assert table.members[0].member_id == "rick"
        await pilot.press("d", "a", "v", "e", "enter")
        await pilot.pause(0.1)
        await pilot.press("enter")
        await recorder.wait_for(pilot, MembersPaged, lambda m: m.page.search == "dave")
        await pilot.pause(0.1)
        assert not any(isinstance(screen, MemberScreen) for screen in app.screen_stack)
        assert [m.member_id for m in table.members] == ["dave"] and app.focused is table
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MemberScreen) and app.screen.member_id == "dave")
