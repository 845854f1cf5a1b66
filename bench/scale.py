"""pos-loyalty at scale: 5,000,000 sale lines over 100,000 members (the trust issue's scale check).

    python bench/scale.py [--lines 5000000] [--members 100000] [--program coffee_shop|points|tiered_pln|FILE]
                          [--db PATH] [--status-n 2000] [--checkout-seconds 5]

1. Builds (or reuses) the ledger with ``bench/core.py``'s builder: plain ``executemany`` into
   the ledger tables, ``member_summary`` rebuilt at the end, a ``*.bench.json`` sidecar so a
   finished build is reused by the next run with the same arguments.
2. Status latency (``load_member_facts`` + ``member_status``) for 2,000 random members.
3. Durable checkout rate: ``record_sale`` for 5 s (WAL, the log synced before each returns) on a copy of the
   ledger, so the fixture stays as built.
4. ``verify`` (integrity check, invariants, cache vs facts) on the whole ledger.
5. ``report tiers``: ``pos_loyalty.reports.tier_segments`` as of the fixture's end, and the
   ``pos-loyalty report tiers --json`` command end to end (a fresh process).
6. The database's size on disk.

Budgets (the issue): status p99 < 2 ms, ``report tiers`` < 5 s, ``verify`` < 30 s.
Seeds are fixed: the same arguments build the same ledger and draw the same members.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import core  # bench/core.py: the builder and the measurements are shared

from pos_loyalty.ledger import connect, load_program
from pos_loyalty.ledger.timestamps import ts_text
from pos_loyalty.ledger.verify import verify
from pos_loyalty.reports import tier_segments

BUDGET_STATUS_P99_MS = 2.0
BUDGET_TIERS_S = 5.0
BUDGET_VERIFY_S = 30.0


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def size_mb(path: Path) -> tuple[float, float]:
    main = path.stat().st_size / 1e6
    wal = Path(str(path) + "-wal")
    return main, (wal.stat().st_size / 1e6 if wal.exists() else 0.0)


def time_verify(path: Path) -> tuple[float, list[str], list[tuple[str, float]]]:
    db = connect(path)
    steps: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    faults = verify(db, on_step=lambda name, seconds: steps.append((name, seconds)))
    elapsed = time.perf_counter() - t0
    db.conn.close()
    return elapsed, faults, steps


def time_tiers(path: Path, runs: int) -> tuple[list[float], list]:
    db = connect(path)
    program = load_program(db)
    times, segments = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        segments = tier_segments(db, program, core.AS_OF)
        times.append(time.perf_counter() - t0)
    db.conn.close()
    return times, segments


def time_tiers_cli(path: Path) -> tuple[float, str]:
    script = Path(sys.executable).with_name("pos-loyalty")
    cmd = [str(script), "--db", str(path), "report", "tiers", "--as-of", ts_text(core.AS_OF), "--json"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"bench/scale.py: `pos-loyalty report tiers` failed: {done.stderr.strip()}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=5_000_000, help="sale lines (default 5,000,000)")
    parser.add_argument("--members", type=int, default=100_000, help="members (default 100,000)")
    parser.add_argument("--program", default="coffee_shop", help="coffee_shop, points, tiered_pln or a .toml file")
    parser.add_argument("--db", type=Path, help="the ledger (default bench/out/scale_PROGRAM_LINES_MEMBERS.db)")
    parser.add_argument("--status-n", type=int, default=2000)
    parser.add_argument("--checkout-seconds", type=float, default=5.0)
    parser.add_argument("--tiers-runs", type=int, default=3, help="report tiers is timed this many times (best and worst shown)")
    parser.add_argument("--seed", type=int, default=20260601)
    args = parser.parse_args()

    program = core.program_path(args.program)
    path = args.db or core.ROOT / "bench" / "out" / f"scale_{program.stem}_{args.lines}_{args.members}.db"
    print("## machine\n")
    for key, value in core.machine().items():
        print(f"- {key}: {value}")
    print(f"\ncommand: python bench/scale.py {' '.join(sys.argv[1:])}")
    print(f"programme: {program.name}; as of {ts_text(core.AS_OF)}; history {ts_text(core.START)} .. {ts_text(core.END)}\n")

    print("## build (bench/core.py's builder)\n")
    t0 = time.perf_counter()
    meta = core.ensure_ledger(path, args.lines, args.members, program, args.seed)
    took = time.perf_counter() - t0
    print(
        f"{path.name}: {args.lines:,} lines, {args.members:,} members, {meta['sales']:,} sales; "
        f"built in {meta['build_s']:.1f} s (rows {meta['rows_s']:.1f} s + summary {meta['summary_s']:.1f} s)"
        + ("" if took > 5 else " (an earlier run; reused now)")
    )
    main_mb, wal_mb = size_mb(path)

    print("\n## status latency (load_member_facts + member_status), ms\n")
    print("| ledger | n | p50 | p95 | p99 | max | lines per sampled member (mean / p99 / max) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    control = core.jitter_control(args.status_n)
    status = core.measure_status(path, args.status_n, args.seed)
    hist = f"{status['history_mean']:.1f} / {status['history_p99']} / {status['history_max']}"
    print(core.row(f"{args.lines:,} lines: total", status["total"], hist))
    print(core.row(f"{args.lines:,} lines: load_member_facts", status["load"], ""))
    print(core.row(f"{args.lines:,} lines: member_status", status["engine"], ""))
    print(core.row("control: fixed CPU loop, no I/O", control))
    print("\nby the member's history length (sale lines), ms:\n")
    print("| lines per member | n | p50 | p95 | p99 | max |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for bucket, stats in status["by_history"].items():
        print(core.row(bucket, stats))
    print(f"\nledger: {json.dumps(status['shape'])}; the file was read once first ({status['warmed_s']:.1f} s) so the page cache holds it")

    print("\n## verify (whole ledger)\n")
    verify_s, faults, steps = time_verify(path)
    print(f"verify: {verify_s:.1f} s, {len(faults)} fault(s)" + "".join(f"\n  - {f}" for f in faults))
    print("\n| step | seconds |\n| --- | ---: |")
    for name, seconds in steps:
        print(f"| {name} | {seconds:.1f} |")

    print("\n## report tiers\n")
    tiers_times, segments = time_tiers(path, args.tiers_runs)
    print(
        f"tier_segments: best {min(tiers_times):.2f} s, worst {max(tiers_times):.2f} s of {len(tiers_times)} runs; "
        + ", ".join(f"{s.tier} {s.members:,}" for s in segments)
    )
    cli_s, cli_out = time_tiers_cli(path)
    cli_rows = json.loads(cli_out)
    print(f"`pos-loyalty report tiers --json` in a fresh process: {cli_s:.2f} s (start-up included); "
          f"{sum(r['members'] for r in cli_rows):,} active members in {len(cli_rows)} tiers")

    print(f"\n## durable checkout rate (ledger.record_sale, 1-3 lines, {args.checkout_seconds:g} s, on a copy)\n")
    copy = core.work_copy(path, "scale_checkout")
    try:
        c = core.measure_checkout(copy, True, args.checkout_seconds, 10**9, args.seed, core.CHECKOUT_FROM)
    finally:
        for suffix in ("", "-wal", "-shm", "-lock"):
            Path(str(copy) + suffix).unlink(missing_ok=True)
    lat = c["latency"]
    print("| synchronous | journal | checkouts | seconds | checkouts/s | p50 ms | p99 ms | max ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {c['synchronous']} | {c['journal']} | {c['checkouts']:,} | {c['seconds']:.2f} | {c['rate']:,.0f} | "
        f"{lat['p50']:.3f} | {lat['p99']:.3f} | {lat['max']:.3f} |"
    )

    print("\n## size\n")
    print(f"{path.name}: {main_mb:,.0f} MB (+ {wal_mb:,.0f} MB WAL); "
          f"{main_mb * 1e6 / args.lines:,.0f} bytes per sale line, all tables and indexes included")

    status_p99 = status["total"]["p99"]
    print("\n## budgets\n")
    print("| budget | measured | verdict |")
    print("| --- | --- | --- |")
    print(f"| status p99 < {BUDGET_STATUS_P99_MS:g} ms | {status_p99:.3f} ms | {verdict(status_p99 < BUDGET_STATUS_P99_MS)} |")
    print(f"| report tiers < {BUDGET_TIERS_S:g} s | {max(tiers_times):.2f} s (worst of {len(tiers_times)}); CLI {cli_s:.2f} s "
          f"| {verdict(max(tiers_times) < BUDGET_TIERS_S)} |")
    print(f"| verify < {BUDGET_VERIFY_S:g} s | {verify_s:.1f} s, {len(faults)} fault(s) | {verdict(verify_s < BUDGET_VERIFY_S and not faults)} |")
    print(f"| (no budget) durable checkouts/s | {c['rate']:,.0f} | - |")
    print(f"| (no budget) database size | {main_mb:,.0f} MB | - |")
    if faults:
        sys.exit(1)


if __name__ == "__main__":
    main()
