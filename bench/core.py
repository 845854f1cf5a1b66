"""Core speed of pos-loyalty: member status, basket quote and durable checkout on a big ledger.

    python bench/core.py [--lines 1000000] [--members 50000] [--db PATH] [--program coffee_shop|points|FILE]
                         [--small-lines 100000] [--tills 3] [--profile]

1. Builds (or reuses) a ledger of ``--lines`` sale lines over ``--members`` members, plus a
   small one of ``--small-lines`` lines with the same lines-per-member ratio. The fixture is
   written with plain ``executemany`` into the ledger tables (it is not what is measured), then
   ``member_summary`` is filled by ``ledger.verify.rebuild_summary``.
2. Status latency (``load_member_facts`` + ``member_status``) for 2,000 random members, at
   both ledger sizes, and the ``EXPLAIN QUERY PLAN`` of every statement ``load_member_facts`` runs.
3. Quote latency: 1,000 quotes of a 20-line basket via ``ledger.quote_for``.
4. Checkout rate: ``record_sale`` for 10 s or 5,000 checkouts from one till, durable (each
   checkout returns once its write-ahead log is synced) and, for comparison, not durable; then
   durable from 2, 3 .. ``--tills`` processes at once into the same ledger, the spec's several tills
   (counted while every till is checking out: each opens the ledger before the start signal, and
   the end, when the tills that finished first have stopped, is left out). The budget is the
   ledger's: durable checkouts it takes per second, from one till or several.
   Checkouts run on a copy, so the fixture stays as built.

Budgets (the issue): status p99 < 2 ms and flat in ledger size; quote p99 < 5 ms for a
20-line basket; >= 1,000 durable checkouts per second.

Seeds are fixed: the same arguments build the same ledger and draw the same members.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import math
import os
import platform
import pstats
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import sqlite_utils

from pos_loyalty.engine import Basket, BasketLine, member_status
from pos_loyalty.ledger import connect, load_member_facts, load_program, quote_for, record_sale, set_program, write
from pos_loyalty.ledger.timestamps import ts_text
from pos_loyalty.ledger.writes import new_sale_id
from pos_loyalty.ledger.verify import rebuild_summary

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "fixtures" / "programs"
FIXTURE_VERSION = 4
"""Bump when the generator or the schema it builds into changes, so an old ledger is rebuilt rather
than reused (3: the covering member-history index; 4: the covering points-history index, which a
migration would build packed full, so that the first checkouts split its pages as a ledger grown
by checkouts never does)."""

END = dt.datetime(2026, 6, 1, 0, 0, 0)
START = END - dt.timedelta(days=730)
AS_OF = END
CHECKOUT_FROM = END + dt.timedelta(hours=9)

ANONYMOUS_SHARE = 0.10
RESIGNED_SHARE = 0.03
N_PRODUCTS = 50
CHUNK_SALES = 50_000

BUDGET_STATUS_P99_MS = 2.0
BUDGET_QUOTE_P99_MS = 5.0
BUDGET_CHECKOUTS_PER_S = 1000.0


# -- machine ---------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout.splitlines()[1]
        mem = " ".join(mem.split()[:2]).replace("Mem: ", "") + " total"
    except (OSError, IndexError):
        mem = "?"
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlite-utils": getattr(sqlite_utils, "__version__", None) or _dist_version("sqlite-utils"),
        "platform": platform.platform(),
    }


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


# -- the fixture -----------------------------------------------------------------------------


def program_path(name: str) -> Path:
    path = Path(name)
    if path.suffix == ".toml" and path.exists():
        return path
    found = PROGRAMS / f"{name}.toml"
    if not found.exists():
        sys.exit(f"bench/core.py: no programme {name!r} (expected a file or one of {sorted(p.stem for p in PROGRAMS.glob('*.toml'))})")
    return found


def catalogue(rng: random.Random) -> list[tuple[str, str, str, int]]:
    """~50 products: the ones the shipped programmes name, then generated ones."""
    named = [
        ("coffee", "Coffee", "beverages", 299),
        ("tea", "Tea", "beverages", 255),
        ("dog", "Dog", "pets", 24999),
        ("cat", "Cat", "pets", 19500),
        ("beret", "Beret", "fashion", 3499),
        ("handbag", "Handbag", "fashion", 12600),
    ]
    categories = ["beverages", "bakery", "snacks", "pets", "fashion", "home", "books"]
    out = list(named)
    for i in range(N_PRODUCTS - len(named)):
        cat = categories[i % len(categories)]
        price = rng.choice([150, 199, 250, 325, 450, 599, 799, 1250, 1999, 2999, 4500])
        out.append((f"p{i:03d}", f"Product {i:03d}", cat, price))
    return out


def meta_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".bench.json")


def wanted_meta(lines: int, members: int, program: Path, seed: int) -> dict:
    return {
        "version": FIXTURE_VERSION,
        "lines": lines,
        "members": members,
        "program": program.name,
        "program_text": program.read_text(),
        "seed": seed,
    }


def ensure_ledger(db_path: Path, lines: int, members: int, program: Path, seed: int) -> dict:
    """Reuse ``db_path`` if this script built it completely with the same parameters, else build it."""
    want = wanted_meta(lines, members, program, seed)
    meta_file = meta_path(db_path)
    if db_path.exists():
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else None
        if meta is None:
            sys.exit(f"bench/core.py: {db_path} exists and was not built by this script; not touching it")
        if meta.get("complete") and all(meta.get(k) == v for k, v in want.items()):
            print(f"reusing {db_path} ({meta['build_s']:.1f} s to build, {_mb(db_path):.0f} MB)")
            return meta
        print(f"rebuilding {db_path}: " + ("incomplete" if not meta.get("complete") else "built with other parameters"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    meta_file.write_text(json.dumps({**want, "complete": False}))
    meta = build(db_path, lines, members, program, seed)
    meta_file.write_text(json.dumps({**want, **meta, "complete": True}))
    return {**want, **meta, "complete": True}


def build(db_path: Path, n_lines: int, n_members: int, program_file: Path, seed: int) -> dict:
    rng = random.Random(seed)
    t0 = time.perf_counter()
    db = connect(db_path, durable=False)
    conn = db.conn
    conn.execute("PRAGMA cache_size = -262144")  # 256 MB, this connection only
    program = set_program(db, program_file.read_text(), str(program_file))
    points = program.points
    span_s = int((END - START).total_seconds())

    # products and prices: a fifth of them get a price rise half-way through
    products = catalogue(rng)
    rise_at = START + dt.timedelta(days=365)
    price_rows = []
    for pid, _, _, price in products:
        price_rows.append((pid, ts_text(START), price))
        if rng.random() < 0.2:
            price_rows.append((pid, ts_text(rise_at), price + max(1, price // 20)))
    with write(db):
        conn.executemany("INSERT INTO products (product_id, name, category) VALUES (?, ?, ?)", [p[:3] for p in products])
        conn.executemany("INSERT INTO prices (product_id, valid_from, price) VALUES (?, ?, ?)", price_rows)
    price_before = {pid: price for pid, _, _, price in products}
    price_after = dict(price_before)
    for pid, valid_from, price in price_rows:
        if valid_from != ts_text(START):
            price_after[pid] = price
    product_ids = [p[0] for p in products]
    # coffee and tea sell most, pets least: a rough shop
    product_weights = [
        12 if pid in ("coffee", "tea") else 0.3 if pid in ("dog", "cat") else 1.0 for pid in product_ids
    ]
    product_cum = list(_cumulate(product_weights))

    # members: joined over the first 18 months; a few resigned later
    member_ids = [f"M{i:07d}" for i in range(n_members)]
    joined = []
    member_rows, membership_rows, point_rows = [], [], []
    for mid in member_ids:
        join = START + dt.timedelta(seconds=rng.randrange(int(span_s * 0.75)))
        joined.append(join)
        birthday = dt.date(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28)).isoformat()
        member_rows.append((mid, f"Member {mid[1:]}", f"{mid.lower()}@example.com", f"+1-555-{mid[-7:]}", birthday, ts_text(join)))
        membership_rows.append((mid, ts_text(join), "active"))
        if rng.random() < RESIGNED_SHARE:
            left = join + dt.timedelta(seconds=rng.randrange(max(1, int((END - join).total_seconds()))))
            membership_rows.append((mid, ts_text(left), "resigned"))
        if points is not None and points.signup_bonus:
            point_rows.append((mid, ts_text(join), "bonus", points.signup_bonus, _expiry(points, join), None, "sign-up"))
    with write(db):
        conn.executemany(
            "INSERT INTO members (member_id, name, email, phone, birthday, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            member_rows,
        )
        conn.executemany("INSERT INTO memberships (member_id, ts, status) VALUES (?, ?, ?)", membership_rows)
        _insert_points(conn, point_rows)
    del member_rows, membership_rows

    # how busy each member is: lognormal, so some members have long histories
    weights = [rng.lognormvariate(0, 1) for _ in member_ids]
    member_cum = list(_cumulate(weights))

    made = 0
    sale_no = 0
    rise_ts = ts_text(rise_at)
    while made < n_lines:
        sales, lines, point_rows = [], [], []
        for _ in range(CHUNK_SALES):
            if made >= n_lines:
                break
            sale_no += 1
            sale_id = f"H{sale_no:08d}"
            if rng.random() < ANONYMOUS_SHARE:
                member, since = None, START
            else:
                idx = _pick(rng, member_cum)
                member, since = member_ids[idx], joined[idx]
            span = int((END - since).total_seconds())
            at = since + dt.timedelta(seconds=rng.randrange(max(1, span)))
            ts = ts_text(at)
            prices = price_after if ts >= rise_ts else price_before
            n = min(rng.randint(1, 5), n_lines - made)
            chosen = []
            while len(chosen) < n:
                pid = product_ids[_pick(rng, product_cum)]
                if pid not in chosen:
                    chosen.append(pid)
            subtotal = 0
            for line_no, pid in enumerate(chosen, start=1):
                qty = 1 if rng.random() < 0.8 else rng.randint(2, 4)
                unit = prices[pid]
                amount = qty * unit
                subtotal += amount
                lines.append((sale_id, line_no, member, ts, pid, qty, unit, amount, 0, amount, None))
            made += n
            earned = 0
            if points is not None and member is not None:
                earned = subtotal * points.per_unit // 10 ** program.decimals
                if earned:
                    point_rows.append((member, ts, "earn", earned, _expiry(points, at), sale_id, None))
            sales.append((sale_id, ts, member, "sale", None, None, subtotal, 0, subtotal, earned, 0, 0, "import"))
        with write(db):
            conn.executemany(
                """INSERT INTO sales (sale_id, ts, member_id, kind, original_sale_id, discount_code, subtotal,
                       discount_total, total, points_earned, points_bonus, points_redeemed, source)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                sales,
            )
            conn.executemany(
                """INSERT INTO sale_lines (sale_id, line_no, member_id, ts, product_id, qty, unit_price, list_amount,
                       free_units, total, original_line_no)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                lines,
            )
            _insert_points(conn, point_rows)
        print(f"  {made:,} / {n_lines:,} lines, {time.perf_counter() - t0:.1f} s", end="\r", flush=True)
    print()
    if points is not None:
        # A ledger in use has ``expire`` rows for lots that lapsed (writes add them as they go);
        # add them for every lot lapsed by AS_OF, or the first checkout of each member would.
        with write(db):
            conn.execute(
                """INSERT INTO point_movements (member_id, ts, kind, points, lot_id)
                   SELECT member_id, expires_at, 'expire', -points, movement_id FROM point_movements
                    WHERE points > 0 AND expires_at IS NOT NULL AND expires_at <= ?
                    ORDER BY expires_at""",
                [ts_text(AS_OF)],
            )
    t_rows = time.perf_counter() - t0
    with write(db):
        rebuild_summary(db)
    t_summary = time.perf_counter() - t0 - t_rows
    db.execute("PRAGMA optimize")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    build_s = time.perf_counter() - t0
    os.sync()  # let the written pages reach the disk now, not while latencies are measured
    return {"build_s": build_s, "rows_s": t_rows, "summary_s": t_summary, "sales": sale_no, "size_mb": _mb(db_path)}


def _insert_points(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    if rows:
        conn.executemany(
            """INSERT INTO point_movements (member_id, ts, kind, points, expires_at, sale_id, reason)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )


def _expiry(points, at: dt.datetime) -> str | None:
    days = getattr(points, "expiry_days", None)
    return ts_text(at + dt.timedelta(days=days)) if days else None


def _cumulate(weights):
    total = 0.0
    for w in weights:
        total += w
        yield total


def _pick(rng: random.Random, cum: list[float]) -> int:
    from bisect import bisect_right

    return min(bisect_right(cum, rng.random() * cum[-1]), len(cum) - 1)


def _mb(path: Path) -> float:
    return sum(Path(str(path) + s).stat().st_size for s in ("", "-wal") if Path(str(path) + s).exists()) / 1e6


# -- measurements ----------------------------------------------------------------------------


def percentiles(ns: list[int]) -> dict[str, float]:
    ordered = sorted(ns)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] / 1e6

    return {"n": len(ordered), "p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": ordered[-1] / 1e6}


def row(label: str, stats: dict[str, float], extra: str = "") -> str:
    return (
        f"| {label} | {stats['n']:,} | {stats['p50']:.3f} | {stats['p95']:.3f} | {stats['p99']:.3f} | {stats['max']:.3f} |"
        + (f" {extra} |" if extra else "")
    )


def ledger_shape(db) -> dict:
    q = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "members": q("SELECT count(*) FROM members"),
        "sales": q("SELECT count(*) FROM sales"),
        "lines": q("SELECT count(*) FROM sale_lines"),
        "point_movements": q("SELECT count(*) FROM point_movements"),
        "max_lines_per_member": q(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM sale_lines WHERE member_id IS NOT NULL GROUP BY member_id)"
        ),
    }


def sample_members(db, count: int, seed: int) -> list[str]:
    ids = [r[0] for r in db.execute("SELECT member_id FROM members ORDER BY member_id")]
    return random.Random(seed).sample(ids, min(count, len(ids)))


def warm_page_cache(db_path: Path) -> float:
    """Read the ledger file once, as the OS holds it for a till that has been open all day.

    Without it the first touch of a page can be a disk read of several ms (seen on this VM after
    other work had run: status p99 8.2 ms at 5M lines, every history length alike, against 1.6 ms
    warm). The figures are for a warm ledger; the seconds this read took are printed.
    """
    started = time.perf_counter()
    for suffix in ("", "-wal"):
        part = Path(str(db_path) + suffix)
        if part.exists():
            with part.open("rb", buffering=0) as handle:
                while handle.read(1 << 20):
                    pass
    return time.perf_counter() - started


def measure_status(db_path: Path, count: int, seed: int) -> dict:
    warmed_s = warm_page_cache(db_path)
    db = connect(db_path, durable=True)
    program = load_program(db)
    members = sample_members(db, count, seed)
    for mid in members[:50]:  # warm the connection and the page cache a little
        member_status(program, load_member_facts(db, mid), AS_OF)
    total, load_only, engine_only, history = [], [], [], []
    clock = time.perf_counter_ns
    for mid in members:
        t0 = clock()
        facts = load_member_facts(db, mid)
        t1 = clock()
        member_status(program, facts, AS_OF)
        t2 = clock()
        total.append(t2 - t0)
        load_only.append(t1 - t0)
        engine_only.append(t2 - t1)
        history.append(len(facts.lines))
    shape = ledger_shape(db)
    db.conn.close()
    buckets = {}
    for lines, ns in zip(history, total):
        buckets.setdefault(_bucket(lines), []).append(ns)
    history.sort()
    return {
        "by_history": {b: percentiles(v) for b, v in sorted(buckets.items(), key=lambda kv: HISTORY_BUCKETS.index(kv[0]))},
        "total": percentiles(total),
        "load": percentiles(load_only),
        "engine": percentiles(engine_only),
        "history_mean": sum(history) / len(history),
        "history_p99": history[min(len(history) - 1, math.ceil(0.99 * len(history)) - 1)],
        "history_max": history[-1],
        "shape": shape,
        "warmed_s": warmed_s,
    }


HISTORY_BUCKETS = ["0-9", "10-49", "50-99", "100-199", "200-399", "400+"]


def _bucket(lines: int) -> str:
    for label in HISTORY_BUCKETS:
        low, _, high = label.partition("-")
        if lines >= int(low.rstrip("+")) and (not high or lines <= int(high)):
            return label
    return HISTORY_BUCKETS[-1]


def jitter_control(count: int) -> dict:
    """The machine's own noise: a fixed pure-Python loop (no I/O) timed ``count`` times.

    Its work never changes, so any spread between its p50 and p99 is the machine (scheduler,
    neighbours on the host), not pos-loyalty.
    """
    clock = time.perf_counter_ns
    times = []
    for _ in range(count):
        t0 = clock()
        total = 0
        for i in range(4000):
            total += i * i
        times.append(clock() - t0)
    return percentiles(times)


def query_plans(db_path: Path, seed: int) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]]:
    """Every statement ``load_member_facts`` runs (caught by a trace callback), with its plan: those
    of each status, and those of the connection's first one only (it reads the catalogue whole and
    keeps it, until the catalogue's version moves)."""
    db = connect(db_path, durable=True)
    first, other = sample_members(db, 2, seed + 7)

    def traced(member_id: str) -> list[tuple[str, list[str]]]:
        statements: list[str] = []
        db.conn.set_trace_callback(statements.append)
        load_member_facts(db, member_id)
        db.conn.set_trace_callback(None)
        return [
            (" ".join(sql.split()), [("  " if parent else "") + detail for _, parent, _, detail in db.execute("EXPLAIN QUERY PLAN " + sql)])
            for sql in statements
            if sql.lstrip().upper().startswith("SELECT")
        ]

    once = traced(first)
    each = traced(other)
    shapes = {_shape(sql) for sql, _ in each}
    db.conn.close()
    return each, [(sql, plan) for sql, plan in once if _shape(sql) not in shapes]


def _shape(sql: str) -> str:
    """A traced statement without its quoted values (the member's id)."""
    return re.sub(r"'[^']*'", "?", sql)


def basket_20(rng: random.Random, product_ids: list[str]) -> tuple[BasketLine, ...]:
    return tuple(BasketLine(pid, rng.choice((1, 1, 1, 2, 3))) for pid in rng.sample(product_ids, 20))


def measure_quote(db_path: Path, count: int, seed: int) -> dict:
    db = connect(db_path, durable=True)
    program = load_program(db)
    product_ids = [r[0] for r in db.execute("SELECT product_id FROM products ORDER BY product_id")]
    members = sample_members(db, count, seed + 1)
    rng = random.Random(seed + 2)
    baskets = [Basket(basket_20(rng, product_ids), member_id=mid) for mid in members]
    for basket in baskets[:20]:
        quote_for(db, program, basket, AS_OF)
    times = []
    clock = time.perf_counter_ns
    for basket in baskets:
        t0 = clock()
        quote_for(db, program, basket, AS_OF)
        times.append(clock() - t0)
    db.conn.close()
    return {"total": percentiles(times)}


def work_copy(db_path: Path, name: str) -> Path:
    """A copy of the fixture to write checkouts into (the fixture itself stays as built)."""
    target = db_path.with_name(f"{db_path.stem}.{name}.db")
    for suffix in ("", "-wal", "-shm", "-lock"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    src = sqlite3.connect(db_path)
    src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    src.close()
    shutil.copyfile(db_path, target)
    os.chmod(target, 0o600)
    os.sync()
    return target


def measure_checkout(
    db_path: Path, durable: bool, seconds: float, limit: int, seed: int, start_at: dt.datetime, ready=None
) -> dict:
    """One till's checkouts. ``ready``, if given, is called once the till has opened the ledger and
    drawn its members, just before the first checkout (several tills wait there for each other)."""
    db = connect(db_path, durable=durable)
    sync = db.execute("PRAGMA synchronous").fetchone()[0]
    journal = db.execute("PRAGMA journal_mode").fetchone()[0]
    program = load_program(db)
    product_ids = [r[0] for r in db.execute("SELECT product_id FROM products ORDER BY product_id")]
    members = [r[0] for r in db.execute("SELECT member_id FROM members ORDER BY member_id")]
    rng = random.Random(seed)
    times = []
    finished = []
    clock = time.perf_counter_ns  # CLOCK_MONOTONIC: one clock for every till process
    if ready is not None:
        ready()
    begin = clock()
    deadline = begin + int(seconds * 1e9)
    done = 0
    lines = 0
    while done < limit and clock() < deadline:
        n = rng.randint(1, 3)
        basket = Basket(
            tuple(BasketLine(pid, rng.choice((1, 1, 2))) for pid in rng.sample(product_ids, n)),
            member_id=rng.choice(members),
        )
        at = start_at + dt.timedelta(seconds=done)
        t0 = clock()
        # The till's own sale ids: time-ordered, so each lands at the end of the sales index.
        record_sale(db, program, basket, at, new_sale_id(at))
        t1 = clock()
        times.append(t1 - t0)
        finished.append(t1)
        done += 1
        lines += n
    end = clock()
    elapsed = (end - begin) / 1e9
    db.conn.close()
    return {
        "begin": begin,
        "end": end,
        "finished": finished,
        "checkouts": done,
        "lines": lines,
        "seconds": elapsed,
        "rate": done / elapsed,
        "latency": percentiles(times),
        "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(sync, str(sync)),
        "journal": journal,
    }


def _till(args) -> dict:
    db_path, durable, seconds, limit, seed, start_at, start_flag = args

    def ready() -> None:
        while not start_flag.is_set():
            time.sleep(0.001)

    return measure_checkout(db_path, durable, seconds, limit, seed, start_at, ready)


def measure_checkout_tills(db_path: Path, tills: int, durable: bool, seconds: float, limit: int, seed: int, start_at) -> dict:
    """``tills`` processes checking out into one ledger at once (the spec's several tills).

    The rate is the ledger's while every till is checking out: the checkouts finished between the
    moment the last till began and the moment the first one stopped, over that time. The whole
    run's rate (from the start signal to the last till's result) is kept beside it; it also counts
    the ragged end, where the tills that finished first have stopped and fewer tills share the
    ledger.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    with ctx.Manager() as manager:
        flag = manager.Event()
        with ctx.Pool(tills) as pool:
            jobs = [
                pool.apply_async(
                    _till,
                    ((db_path, durable, seconds, limit // tills, seed * 100 + i, start_at + dt.timedelta(days=i), flag),),
                )
                for i in range(tills)
            ]
            time.sleep(0.5)
            begin = time.perf_counter()
            flag.set()
            results = [job.get() for job in jobs]
            wall = time.perf_counter() - begin
    done = sum(r["checkouts"] for r in results)
    first, last = max(r["begin"] for r in results), min(r["end"] for r in results)
    together = sum(first < t <= last for r in results for t in r["finished"])
    return {
        "checkouts": done,
        "seconds": wall,
        "rate": together / ((last - first) / 1e9),
        "together": together,
        "together_seconds": (last - first) / 1e9,
        "whole_rate": done / wall,
        "latency_p50": max(r["latency"]["p50"] for r in results),
        "latency_p99": max(r["latency"]["p99"] for r in results),
        "latency_max": max(r["latency"]["max"] for r in results),
        "synchronous": results[0]["synchronous"],
        "journal": results[0]["journal"],
    }


def profile(label: str, fn, top: int = 18) -> None:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    for sort in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).strip_dirs().sort_stats(sort).print_stats(top)
        text = out.getvalue()
        start = text.find("   ncalls")
        print(f"\n#### profile: {label} (top {top} by {sort})\n\n```\n{text[max(0, text.rfind(chr(10), 0, start)):].strip()}\n```")


# -- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000, help="sale lines in the big ledger (default 1,000,000)")
    parser.add_argument("--members", type=int, default=50_000, help="members in the big ledger (default 50,000)")
    parser.add_argument("--db", type=Path, help="the big ledger (default bench/out/core_PROGRAM_LINES_MEMBERS.db)")
    parser.add_argument("--program", default="coffee_shop", help="coffee_shop, points, tiered_pln or a .toml file")
    parser.add_argument("--small-lines", type=int, default=100_000, help="the small ledger for the growth check (0: skip)")
    parser.add_argument("--status-n", type=int, default=2000)
    parser.add_argument("--quote-n", type=int, default=1000)
    parser.add_argument("--checkout-seconds", type=float, default=10.0)
    parser.add_argument("--checkout-max", type=int, default=5000)
    parser.add_argument("--tills", type=int, default=3, help="also check out from 2, 3 .. this many processes at once (1: skip)")
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--profile", action="store_true", help="also print cProfile top entries for each measurement")
    args = parser.parse_args()

    program = program_path(args.program)
    big = args.db or ROOT / "bench" / "out" / f"core_{program.stem}_{args.lines}_{args.members}.db"
    info = machine()
    print("## machine\n")
    for key, value in info.items():
        print(f"- {key}: {value}")
    print(f"\ncommand: python bench/core.py {' '.join(sys.argv[1:])}")
    print(f"programme: {program.name}; as of {ts_text(AS_OF)}; history {ts_text(START)} .. {ts_text(END)}\n")

    sizes = []
    if args.small_lines and args.small_lines < args.lines:
        small_members = max(1, round(args.members * args.small_lines / args.lines))
        small = big.with_name(f"{big.stem}.small_{args.small_lines}_{small_members}.db")
        sizes.append((small, args.small_lines, small_members))
    sizes.append((big, args.lines, args.members))

    print("## build\n")
    print("| ledger | lines | members | sales | build s (rows + summary) | size MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    builds = []
    for path, n_lines, n_members in sizes:
        meta = ensure_ledger(path, n_lines, n_members, program, args.seed)
        builds.append(meta)
        print(
            f"| {path.name} | {n_lines:,} | {n_members:,} | {meta['sales']:,} | "
            f"{meta['build_s']:.1f} ({meta['rows_s']:.1f} + {meta['summary_s']:.1f}) | {_mb(path):.0f} |"
        )

    print("\n## status latency (load_member_facts + member_status), ms\n")
    print("| ledger | n | p50 | p95 | p99 | max | lines per sampled member (mean / p99 / max) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    results = {}
    controls = []
    for path, n_lines, _ in sizes:
        controls.append((n_lines, jitter_control(args.status_n)))
        r = measure_status(path, args.status_n, args.seed)
        results[path] = r
        hist = f"{r['history_mean']:.1f} / {r['history_p99']} / {r['history_max']}"
        print(row(f"{n_lines:,} lines: total", r["total"], hist))
        print(row(f"{n_lines:,} lines: load_member_facts", r["load"], ""))
        print(row(f"{n_lines:,} lines: member_status", r["engine"], ""))
    for n_lines, control in controls:
        print(row(f"control before {n_lines:,}: fixed CPU loop, no I/O", control))
    print("\nthe same, by the member's history length (sale lines), ms:\n")
    print("| ledger | lines per member | n | p50 | p95 | p99 | max |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for path, n_lines, _ in sizes:
        for bucket, stats in results[path]["by_history"].items():
            print(row(f"{n_lines:,} lines | {bucket}", stats))
    shape = results[big]["shape"]
    print(f"\nbig ledger: {json.dumps(shape)}")
    print("each ledger file was read once before its statuses (page cache warm): "
          + ", ".join(f"{results[path]['warmed_s']:.1f} s" for path, _, _ in sizes))
    status_p99 = results[big]["total"]["p99"]
    growth = ""
    if len(sizes) > 1:
        small_p99 = results[sizes[0][0]]["total"]["p99"]
        small_p50 = results[sizes[0][0]]["total"]["p50"]
        growth = (
            f"; p50 {small_p50:.3f} -> {results[big]['total']['p50']:.3f} ms, "
            f"p99 {small_p99:.3f} -> {status_p99:.3f} ms for {sizes[0][1]:,} -> {args.lines:,} lines"
        )
    print(f"\nbudget status p99 < {BUDGET_STATUS_P99_MS} ms: {'met' if status_p99 < BUDGET_STATUS_P99_MS else 'MISSED'}{growth}")

    print("\n## query plans of load_member_facts (big ledger)\n")
    scans = 0
    each, once = query_plans(big, args.seed)
    for sql, plan in each:
        print(f"- `{sql}`")
        # A SCAN of a materialised subquery (its one row of aggregates) or of the one-row
        # catalogue_version table does not grow with the ledger; any other SCAN would.
        materialised = {line.split()[1] for line in plan if line.strip().startswith("MATERIALIZE")}
        for line in plan:
            print(f"    - {line}")
            words = line.split()
            if words[:1] == ["SCAN"] and words[1] not in materialised | {"catalogue_version"}:
                scans += 1
    print(f"\nscans of tables that grow, in load_member_facts: {scans}")
    print(
        "\nand on a connection's first status only (the catalogue, read whole and kept until it changes; "
        "its size is the catalogue's, not the ledger's):\n"
    )
    for sql, plan in once:
        print(f"- `{sql}`")
        for line in plan:
            print(f"    - {line}")

    print("\n## quote latency (ledger.quote_for, 20-line basket), ms\n")
    print("| ledger | n | p50 | p95 | p99 | max |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    q = measure_quote(big, args.quote_n, args.seed)
    print(row(f"{args.lines:,} lines", q["total"]))
    quote_p99 = q["total"]["p99"]
    print(f"\nbudget quote p99 < {BUDGET_QUOTE_P99_MS} ms: {'met' if quote_p99 < BUDGET_QUOTE_P99_MS else 'MISSED'}")

    print(f"\n## checkout rate (ledger.record_sale, 1-3 lines, {args.checkout_seconds:g} s or {args.checkout_max:,} checkouts)\n")
    print(
        "Durable: each checkout returns only after its write-ahead log is fdatasync'ed "
        "(connection.WalSync, after the write lock is released).\n"
    )
    print(
        "Several tills: checkouts/s counts the time every till was checking out; the whole run's rate "
        "beside it also counts the end, when the tills that finished first have stopped.\n"
    )
    print("| tills (processes) | durable | SQLite synchronous | checkouts | seconds | checkouts/s | whole run /s | p50 ms | p99 ms | max ms |")
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    copy = work_copy(big, "checkout")
    rates = {}
    start_at = CHECKOUT_FROM
    for durable in (True, False):
        c = measure_checkout(copy, durable, args.checkout_seconds, args.checkout_max, args.seed + (0 if durable else 1), start_at)
        start_at += dt.timedelta(seconds=c["checkouts"] + 60)
        rates[(1, durable)] = c["rate"]
        lat = c["latency"]
        print(
            f"| 1 | {'yes' if durable else 'no'} | {c['synchronous']} | {c['checkouts']:,} | {c['seconds']:.2f} | "
            f"{c['rate']:,.0f} | {c['rate']:,.0f} | {lat['p50']:.3f} | {lat['p99']:.3f} | {lat['max']:.3f} |"
        )
    for tills in range(2, args.tills + 1):
        start_at += dt.timedelta(days=tills)  # each till's sales on days of their own
        c = measure_checkout_tills(copy, tills, True, args.checkout_seconds, args.checkout_max, args.seed + 9, start_at)
        rates[(tills, True)] = c["rate"]
        print(
            f"| {tills} | yes | {c['synchronous']} | {c['checkouts']:,} | {c['seconds']:.2f} | "
            f"{c['rate']:,.0f} | {c['whole_rate']:,.0f} | {c['latency_p50']:.3f} | {c['latency_p99']:.3f} | {c['latency_max']:.3f} |"
        )
    best_tills, best = max(((tills, rate) for (tills, durable), rate in rates.items() if durable), key=lambda t: t[1])
    print(
        f"\nbudget >= {BUDGET_CHECKOUTS_PER_S:,.0f} durable checkouts/s into one ledger: "
        f"{'met' if best >= BUDGET_CHECKOUTS_PER_S else 'MISSED'} ({best:,.0f}/s from {best_tills} till(s)); "
        f"one till alone: {rates[(1, True)]:,.0f}/s"
    )

    if args.profile:
        print("\n## profiles\n")
        db = connect(big, durable=True)
        program_obj = load_program(db)
        members = sample_members(db, 500, args.seed + 3)
        profile(
            "status x500",
            lambda: [member_status(program_obj, load_member_facts(db, m), AS_OF) for m in members],
        )
        product_ids = [r[0] for r in db.execute("SELECT product_id FROM products ORDER BY product_id")]
        rng = random.Random(args.seed + 4)
        baskets = [Basket(basket_20(rng, product_ids), member_id=m) for m in members[:300]]
        profile("quote x300", lambda: [quote_for(db, program_obj, b, AS_OF) for b in baskets])
        db.conn.close()
        profile(
            "durable checkout x500",
            lambda: measure_checkout(copy, True, 60, 500, args.seed + 5, start_at),
        )
    for suffix in ("", "-wal", "-shm", "-lock"):
        Path(str(copy) + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
