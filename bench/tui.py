"""Speed of the TUI against the issue's budget, on a ledger of 100,000 members.

    python bench/tui.py [--members 100000] [--sales 400000] [--db PATH] [--repeat 30]

1. Builds (or reuses) a coffee-shop ledger of ``--members`` members with names, e-mails and
   phones, and ``--sales`` one-line sales over them (written with plain ``executemany`` into the
   ledger tables: building it is not what is measured), then ``member_summary`` by
   ``ledger.verify.rebuild_summary`` and the browse indexes by opening it.
2. Runs the real app headless (``make_app`` + Textual's ``run_test``, 120×40, fixed clock) and
   times, wall clock, from the action to the moment the answer is on screen:

   - launch: from the start of a fresh interpreter (imports count) to the first key answered: a
     key sent the moment the counter's first priced state is drawn, and the frame that echoes it;
   - member panel: a basket change (``draft`` set) → ``Priced`` handled and the basket and panel
     redrawn (median and worst of ``--repeat``), for a member with a long history;
   - member list open: F10 → the first page shown (no PIN);
   - search keystroke: a key in the list's search box → that search's page shown (a surname, and a
     member id whose first letter matches all 100,000 members);
   - paging deep: End (the last page of 100,000) and each sort order's first page;
   - counter type-ahead: a key in the member lookup → the matches shown.

Budgets (issue 4): counter interactive within 1 s of launch; member panel within 50 ms of a basket
change; member list open within 500 ms at 100,000 members; a search keystroke within 100 ms. The
verdict takes the median of three launches, and the worst basket change and keystroke of the run.
Seeds are fixed: the same arguments build the same ledger.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pos_loyalty.ledger import connect, set_program, write  # noqa: E402
from pos_loyalty.ledger.timestamps import ts_text  # noqa: E402
from pos_loyalty.ledger.verify import rebuild_summary  # noqa: E402

FIXTURE_VERSION = 2
NOW = datetime(2026, 6, 1, 9, 0)
START = NOW - timedelta(days=730)
BUDGETS_MS = {"launch": 1000.0, "panel": 50.0, "list_open": 500.0, "search_key": 100.0}

FIRST = ["Ann", "Bob", "Cleo", "Dan", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jana", "Kai", "Lena", "Milo", "Nora",
         "Otto", "Pia", "Quin", "Rosa", "Sam", "Tara", "Uma", "Vik", "Wen", "Xia", "Yara", "Zoe"]
LAST = ["Adams", "Baker", "Clark", "Diaz", "Evans", "Fox", "Garcia", "Hill", "Ito", "Jones", "King", "Lee", "Moore",
        "Nowak", "Ortiz", "Park", "Quinn", "Reed", "Smith", "Tan", "Ueda", "Vega", "Wong", "Xu", "Young", "Zhang"]
PRODUCTS = [("coffee", "Coffee", "beverages", 305), ("tea", "Tea", "beverages", 255), ("dog", "Dog", "pets", 24999),
            ("cat", "Cat", "pets", 19500), ("beret", "Beret", "fashion", 3499), ("handbag", "Handbag", "fashion", 12600)]
WEIGHTS = [60, 25, 1, 1, 8, 5]
HEAVY = "heavy"
"""A member with a long history, for the panel timing (200 visits)."""


def ensure_ledger(path: Path, members: int, sales: int, seed: int = 4) -> float:
    """Build the fixture unless this script already built it with the same parameters; returns build seconds."""
    meta_file = path.with_name(path.name + ".bench.json")
    want = {"version": FIXTURE_VERSION, "members": members, "sales": sales, "seed": seed}
    if path.exists() and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        if meta.get("complete") and all(meta.get(k) == v for k, v in want.items()):
            print(f"reusing {path} (built in {meta['build_s']:.1f} s)")
            return meta["build_s"]
    if path.exists() and not meta_file.exists():
        sys.exit(f"bench/tui.py: {path} exists and was not built by this script; not touching it")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta_file.write_text(json.dumps({**want, "complete": False}))
    started = time.perf_counter()
    rng = random.Random(seed)
    db = connect(path, durable=False)
    conn = db.conn
    program_file = ROOT / "fixtures" / "programs" / "coffee_shop.toml"
    set_program(db, program_file.read_text(), str(program_file))
    span = int((NOW - START).total_seconds())
    with write(db):
        conn.executemany("INSERT INTO products VALUES (?, ?, ?)", [p[:3] for p in PRODUCTS])
        conn.executemany("INSERT INTO prices VALUES (?, ?, ?)", [(p[0], ts_text(START), p[3]) for p in PRODUCTS])
        member_rows, joins = [], []
        ids = []
        for n in range(members):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            member_id = f"m{n:06d}"
            joined = START + timedelta(seconds=rng.randrange(span // 2))
            member_rows.append((member_id, f"{first} {last}", f"{first}.{last}.{n}@example.com".lower(),
                                f"+1-555-{n:07d}", None, ts_text(joined), None))
            joins.append((member_id, ts_text(joined), "active"))
            ids.append((member_id, joined))
        member_rows.append((HEAVY, "Heavy Buyer", "heavy@example.com", "+1-555-9999999", None, ts_text(START), None))
        joins.append((HEAVY, ts_text(START), "active"))
        conn.executemany("INSERT INTO members VALUES (?, ?, ?, ?, ?, ?, ?)", member_rows)
        conn.executemany("INSERT INTO memberships (member_id, ts, status) VALUES (?, ?, ?)", joins)
    batch_sales, batch_lines = [], []

    def flush() -> None:
        with write(db):
            conn.executemany(
                "INSERT INTO sales (sale_id, ts, member_id, kind, subtotal, discount_total, total, source) "
                "VALUES (?, ?, ?, 'sale', ?, 0, ?, 'import')",
                batch_sales,
            )
            conn.executemany(
                "INSERT INTO sale_lines (sale_id, line_no, member_id, ts, product_id, qty, unit_price, list_amount, "
                "free_units, total) VALUES (?, 1, ?, ?, ?, ?, ?, ?, 0, ?)",
                batch_lines,
            )
        batch_sales.clear()
        batch_lines.clear()

    choices = list(range(len(PRODUCTS)))
    for n in range(sales):
        if n < 200:
            member_id, joined = HEAVY, START
        else:
            member_id, joined = ids[rng.randrange(members)]
        ts = ts_text(joined + timedelta(seconds=rng.randrange(max(1, int((NOW - joined).total_seconds())))))
        pid, _, _, price = PRODUCTS[rng.choices(choices, WEIGHTS)[0]]
        qty = 1 + (rng.random() < 0.2)
        sale_id = f"b{n:07d}"
        batch_sales.append((sale_id, ts, member_id, price * qty, price * qty))
        batch_lines.append((sale_id, member_id, ts, pid, qty, price, price * qty, price * qty))
        if len(batch_sales) >= 50_000:
            flush()
    flush()
    with write(db):
        rebuild_summary(db)
    conn.execute("ANALYZE")
    conn.close()
    build_s = time.perf_counter() - started
    # The ledger as any till would have it before the TUI first opens it; opening it the first
    # time adds the browse indexes (once per ledger), which is timed on its own here.
    started = time.perf_counter()
    from pos_loyalty.ledger import browse  # noqa: F401  (registers the browse indexes' migration)

    connect(path, durable=False).conn.close()
    index_s = time.perf_counter() - started
    meta_file.write_text(json.dumps({**want, "build_s": build_s, "index_s": index_s, "complete": True}))
    print(f"built {path}: {members:,} members, {sales:,} sales in {build_s:.1f} s; "
          f"browse indexes added on first open in {index_s * 1000:.0f} ms")
    return build_s


# -- measuring the app ------------------------------------------------------------------------------


def launch_ms(path: Path) -> tuple[float, float, float]:
    """(imports, counter drawn, first key answered) in ms from the start of a fresh interpreter.

    "Counter drawn" is the first frame written after the counter rendered its first priced state
    (basket, totals and member panel). "First key answered": a key is sent the moment the counter
    is drawn, as a terminal would send it, and the time is the first frame showing it echoed in
    the member lookup: the counter is interactive then. No test-harness idle waits are counted.
    """
    probe = f"""
import asyncio, time
t0 = time.perf_counter()
from datetime import datetime
from pathlib import Path
from textual import events
from textual.widgets import Input
from pos_loyalty.tui.app import make_app
from pos_loyalty.tui.screens.counter import CounterScreen
t1 = time.perf_counter()
frames, rendered = [], []
render_sale = CounterScreen._render_sale
def timed_render(self):
    render_sale(self)
    rendered.append(time.perf_counter())
CounterScreen._render_sale = timed_render
app = make_app(Path({str(path)!r}), clock=lambda: datetime(2026, 6, 1, 9, 0))
display = app._display
def displayed(screen, update):
    display(screen, update)
    frames.append(time.perf_counter())
app._display = displayed
async def frame_after(moment):
    while not [f for f in frames if f >= moment]:
        await asyncio.sleep(0.0005)
    return [f for f in frames if f >= moment][0]
async def main():
    async with app.run_test(size=(120, 40)):
        while not rendered:
            await asyncio.sleep(0.0005)
        drawn = await frame_after(rendered[0])
        app.post_message(events.Key("k", "k"))
        lookup = app.screen.query_one("#member-lookup").query_one(Input)
        while lookup.value != "k":
            await asyncio.sleep(0.0005)
        echoed = await frame_after(time.perf_counter())
        print((t1 - t0) * 1000, (drawn - t0) * 1000, (echoed - t0) * 1000)
asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    imports, drawn, answered = (float(v) for v in out.split()[:3])
    return imports, drawn, answered


class Stopwatch:
    """When the app finished drawing: ``App._display`` (a frame written out) and the render methods' ends."""

    def __init__(self) -> None:
        self.frames: list[float] = []
        self.drawn: dict[str, list[float]] = {}

    def wrap(self, owner, name: str) -> None:
        original = getattr(owner, name)
        marks = self.drawn.setdefault(name, [])

        def timed(*args, **kwargs):
            result = original(*args, **kwargs)
            marks.append(time.perf_counter())
            return result

        setattr(owner, name, timed)

    async def frame_after(self, name: str, since: float, timeout: float = 30.0) -> float:
        """The time of the first frame written after ``name`` last finished (after ``since``)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            done = [t for t in self.drawn.get(name, []) if t >= since]
            if done:
                frames = [t for t in self.frames if t >= done[-1]]
                if frames:
                    return frames[0]
            await asyncio.sleep(0.0005)
        raise TimeoutError(name)


async def measure_app(path: Path, repeat: int) -> dict:
    from pos_loyalty.tui.app import make_app
    from pos_loyalty.tui.messages import Priced
    from pos_loyalty.tui.screens.counter import CounterScreen
    from pos_loyalty.tui.screens.office import BackOfficeScreen, MembersPaged
    from pos_loyalty.tui.widgets.lookup import Lookup
    from pos_loyalty.tui.widgets.member_table import MemberTable

    watch = Stopwatch()
    watch.wrap(CounterScreen, "_render_sale")
    watch.wrap(Lookup, "show_matches")
    watch.wrap(MemberTable, "show_page")
    seen: list = []
    app = make_app(path, clock=lambda: NOW)
    display = app._display

    def displayed(screen, update) -> None:
        display(screen, update)
        watch.frames.append(time.perf_counter())

    app._display = displayed  # type: ignore[method-assign]
    figures: dict[str, object] = {}

    async def wait(kind, where=lambda m: True, after=0, timeout=30.0):
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            hits = [m for m in seen[after:] if isinstance(m, kind) and where(m)]
            if hits:
                return hits[0]
            await asyncio.sleep(0.0005)
        raise TimeoutError(kind.__name__)

    async def settle() -> None:
        await pilot.pause()
        await asyncio.sleep(0.05)

    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        counter = app.screen
        await wait(Priced)
        await settle()

        # Member panel: basket changes for a member with 200 visits.
        counter.choose_member(HEAVY)
        await wait(Priced, lambda m: m.draft.member_id == HEAVY)
        await settle()
        panel, worker = [], []
        products = ["coffee", "tea", "beret", "coffee", "handbag", "tea"]
        for n in range(repeat):
            mark = len(seen)
            draft = counter.draft.add(products[n % len(products)])
            if len(draft.lines) > 4:
                draft = draft.remove(0)
            started = time.perf_counter()
            counter.draft = draft
            message = await wait(Priced, lambda m: m.draft == draft, after=mark)
            frame = await watch.frame_after("_render_sale", started)
            panel.append((frame - started) * 1000)
            worker.append(message.elapsed_ms)
            await settle()
        figures["panel_ms"] = _stats(panel)
        figures["quote_in_worker_ms"] = _stats(worker)

        # Counter type-ahead: one key in the member lookup → the matches drawn.
        counter.reset()
        await settle()
        lookup_ms = []
        for key in ["m", "0", "4", "2", "backspace", "backspace", "backspace"]:
            started = time.perf_counter()
            await pilot.press(key)
            frame = await watch.frame_after("show_matches", started)
            lookup_ms.append((frame - started) * 1000)
            await settle()
        figures["counter_lookup_key_ms"] = _stats(lookup_ms)
        await pilot.press("escape", "escape")
        await settle()

        # Member list: F10 → first page drawn.
        mark = len(seen)
        started = time.perf_counter()
        await pilot.press("f10")
        page = await wait(MembersPaged, after=mark)
        frame = await watch.frame_after("show_page", started)
        figures["list_open_ms"] = (frame - started) * 1000
        figures["list_open_query_ms"] = page.elapsed_ms
        figures["list_total"] = page.page.total
        office = app.screen
        assert isinstance(office, BackOfficeScreen)
        await settle()

        # Search keystrokes: a surname letter by letter, rubbed out, another; then a member id, whose
        # first letter matches every member (ids run m000001 …).
        search_ms, search_sql = [], []
        for key in ["s", "m", "i", "t", "h", "backspace", "backspace", "backspace", "backspace", "backspace",
                    "z", "o", "e", "backspace", "backspace", "backspace", "m", "0", "4", "2"]:
            mark = len(seen)
            started = time.perf_counter()
            await pilot.press(key)
            text = office.query_one("#member-search").value.strip()
            page = await wait(MembersPaged, lambda m: m.page.search == text, after=mark)
            frame = await watch.frame_after("show_page", started)
            search_ms.append((frame - started) * 1000)
            search_sql.append(page.elapsed_ms)
            await settle()
        figures["search_key_ms"] = _stats(search_ms)
        figures["search_sql_ms"] = _stats(search_sql)
        mark = len(seen)
        office.query_one("#member-search").value = ""
        await wait(MembersPaged, lambda m: m.page.search == "", after=mark)
        await settle()

        # Paging deep and each sort's first page.
        table = office.query_one(MemberTable)
        table.focus()
        await settle()
        mark = len(seen)
        started = time.perf_counter()
        await pilot.press("end")
        page = await wait(MembersPaged, lambda m: m.page.offset > 0, after=mark)
        frame = await watch.frame_after("show_page", started)
        figures["last_page_ms"] = (frame - started) * 1000
        figures["last_page_sql_ms"] = page.elapsed_ms
        await settle()
        sorts = {}
        for _ in range(6):
            mark = len(seen)
            started = time.perf_counter()
            await pilot.press("f7")
            page = await wait(MembersPaged, lambda m: m.page.sort == office.sort, after=mark)
            frame = await watch.frame_after("show_page", started)
            sorts[page.page.sort] = (round((frame - started) * 1000, 1), round(page.elapsed_ms, 1))
            await settle()
        figures["sort_first_page_ms"] = sorts
    return figures


def _stats(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 1),
        "p90": round(ordered[max(0, int(len(ordered) * 0.9) - 1)], 1),
        "max": round(ordered[-1], 1),
        "n": len(ordered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--sales", type=int, default=400_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    args = parser.parse_args()
    path = args.db or ROOT / "bench" / "out" / f"tui_{args.members}_{args.sales}.db"
    build_s = ensure_ledger(path, args.members, args.sales)
    launches = sorted((launch_ms(path) for _ in range(3)), key=lambda run: run[2])
    imports, drawn, answered = launches[1]  # the median launch
    figures = {"import_ms": round(imports, 1), "launch_drawn_ms": round(drawn, 1), "launch_ms": round(answered, 1),
               "launch_all_ms": [round(run[2]) for run in launches]}
    meta = json.loads(path.with_name(path.name + ".bench.json").read_text())
    if "index_s" in meta:
        figures["index_once_ms"] = round(meta["index_s"] * 1000)
    figures.update(asyncio.run(measure_app(path, args.repeat)))
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    print(f"\nTUI on {path.name}: {args.members:,} members, {args.sales:,} sales (built in {build_s:.0f} s) — {machine}")
    rows = [
        ("launch → first key answered (median of 3: " + ", ".join(map(str, figures["launch_all_ms"])) + ")",
         f"{figures['launch_ms']:.0f} ms", BUDGETS_MS["launch"]),
        ("  counter drawn", f"{figures['launch_drawn_ms']:.0f} ms", None),
        ("  of which imports", f"{figures['import_ms']:.0f} ms", None),
        ("basket change → panel redrawn (median / p90 / max)", _triple(figures["panel_ms"]), BUDGETS_MS["panel"]),
        ("  of which quote in the worker (median / p90 / max)", _triple(figures["quote_in_worker_ms"]), None),
        ("counter lookup keystroke → matches (median / max)", _pair(figures["counter_lookup_key_ms"]), BUDGETS_MS["search_key"]),
        ("F10 → member list first page drawn", f"{figures['list_open_ms']:.0f} ms", BUDGETS_MS["list_open"]),
        ("  of which SQL + tiers in the worker", f"{figures['list_open_query_ms']:.0f} ms", None),
        ("search keystroke → page drawn (median / max)", _pair(figures["search_key_ms"]), BUDGETS_MS["search_key"]),
        ("  of which SQL + tiers in the worker (median / max)", _pair(figures["search_sql_ms"]), None),
        ("End → last page drawn (SQL in the worker)", f"{figures['last_page_ms']:.0f} ms ({figures['last_page_sql_ms']:.0f} ms)", None),
    ]
    if "index_once_ms" in figures:
        rows.append(("first open of an old ledger: browse indexes (once)", f"{figures['index_once_ms']:.0f} ms", None))
    for label, value, budget in rows:
        print(f"  {label:<55} {value:>22}" + (f"   budget {budget:.0f} ms" if budget else ""))
    print("  F7 sort → first page drawn (SQL): " + ", ".join(
        f"{k} {v[0]:.0f} ({v[1]:.0f}) ms" for k, v in figures["sort_first_page_ms"].items()))
    verdict = {
        "launch": figures["launch_ms"] <= BUDGETS_MS["launch"],
        "panel": figures["panel_ms"]["max"] <= BUDGETS_MS["panel"],
        "list_open": figures["list_open_ms"] <= BUDGETS_MS["list_open"],
        "search_key": max(figures["search_key_ms"]["max"], figures["counter_lookup_key_ms"]["max"]) <= BUDGETS_MS["search_key"],
    }
    print("  within budget (the worst of the run for panel and keystrokes): " + ", ".join(f"{k} {'yes' if ok else 'NO'}" for k, ok in verdict.items()))
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "within_budget": verdict, "machine": machine}, indent=2))


def _triple(s: dict) -> str:
    return f"{s['median']:.0f} / {s['p90']:.0f} / {s['max']:.0f} ms"


def _pair(s: dict) -> str:
    return f"{s['median']:.0f} / {s['max']:.0f} ms"


if __name__ == "__main__":
    main()
