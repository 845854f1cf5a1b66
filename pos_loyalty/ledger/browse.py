"""Read-only queries for browsing the ledger: type-ahead search, a member's history, the paged member list.

Nothing here writes. Every query is bounded (LIMIT) and index-driven, so the counter's type-ahead
and the manager's member list stay fast at 100,000 members: the list is paged from SQL, never
loaded whole.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from ..engine import Product, Program
from .schema_browse import NAME_INDEX  # importing it registers the browse indexes' migrations
from .timestamps import parse_ts, ts_text

SORTS = ("tier", "spend", "points", "last_visit", "name", "member_id")
"""The member list's sort keys, in the order the list cycles through them."""

SORT_LABELS = {
    "tier": "tier",
    "spend": "net spend",
    "points": "points",
    "last_visit": "last visit",
    "name": "name",
    "member_id": "member id",
}


def sorts_for(program: Program) -> tuple[str, ...]:
    """The sort keys that mean something for ``program``: by points only where it has points."""
    return SORTS if program.points is not None else tuple(key for key in SORTS if key != "points")


@dataclass(frozen=True, slots=True)
class MemberHit:
    """A member found by a search, with the contact details that matched."""

    member_id: str
    name: str
    email: str
    phone: str
    erased: bool = False

    @property
    def label(self) -> str:
        """How a cashier reads the hit: name, id and one contact detail."""
        if self.erased:
            return f"(erased) · {self.member_id}"
        contact = self.phone or self.email
        name = self.name or "(no name)"
        return f"{name} · {self.member_id}" + (f" · {contact}" if contact else "")


@dataclass(frozen=True, slots=True)
class SaleSummary:
    """One sale or return in a member's history."""

    sale_id: str
    ts: datetime
    kind: str
    """sale or return."""
    original_sale_id: str | None
    discount_code: str | None
    subtotal: int
    discount_total: int
    total: int
    units: int
    returnable: int
    """Units of a sale not yet returned (0 for a return)."""
    points_earned: int
    points_redeemed: int


@dataclass(frozen=True, slots=True)
class PointRow:
    """One row of a member's points audit trail, as the manager reads it."""

    movement_id: int
    ts: datetime
    kind: str
    points: int
    reason: str
    sale_id: str | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class MemberDetails:
    """A member's personal details and cached totals."""

    member_id: str
    name: str
    email: str
    phone: str
    birthday: str
    created_at: datetime
    erased_at: datetime | None
    visits: int
    last_visit: datetime | None
    spend: int
    refunds: int
    points_net: int


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One row of the member list (from the ``member_summary`` cache)."""

    member_id: str
    name: str
    erased: bool
    visits: int
    last_visit: datetime | None
    spend: int
    refunds: int
    points_net: int

    @property
    def net_spend(self) -> int:
        return self.spend - self.refunds


@dataclass(frozen=True, slots=True)
class MemberPage:
    """A window of the sorted, filtered member list."""

    rows: tuple[MemberRow, ...]
    offset: int
    total: int
    """How many members match the search (all members when there is none)."""
    sort: str
    descending: bool
    search: str


def like_prefix(text: str) -> str:
    """A LIKE pattern matching values that start with ``text`` (wildcards in it escaped)."""
    return _escape(text) + "%"


def like_anywhere(text: str) -> str:
    return "%" + _escape(text) + "%"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def name_words(text: str) -> str | None:
    """An FTS5 query: every word typed starts a word of the name (``anna smi`` -> ``"anna"* "smi"*``).

    Each word is quoted, so nothing typed is read as query syntax; None when no word has a
    letter or digit in it.
    """
    words = [word for word in text.split() if any(ch.isalnum() for ch in word)]
    if not words:
        return None
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


_MEMBER_COLUMNS = "member_id, coalesce(name, ''), coalesce(email, ''), coalesce(phone, ''), erased_at IS NOT NULL"


def search_members(db: Database, text: str, limit: int = 8) -> list[MemberHit]:
    """Members whose id, name, e-mail or phone matches ``text``: exact id, then prefixes, then anywhere.

    Prefix matches come off the NOCASE indexes; only when they leave room does a substring scan
    run (bounded by ``limit``), so a phone typed as ``0103`` still finds ``+1-555-0103``.
    """
    text = text.strip()
    if not text:
        return []
    found: dict[str, MemberHit] = {}

    def take(sql: str, params: list) -> None:
        for row in db.execute(sql, params):
            if len(found) >= limit:
                return
            found.setdefault(row[0], MemberHit(row[0], row[1], row[2], row[3], bool(row[4])))

    take(f"SELECT {_MEMBER_COLUMNS} FROM members WHERE member_id = ?", [text])
    prefix = like_prefix(text)
    for column in ("member_id", "name", "email", "phone"):
        if len(found) >= limit:
            break
        take(
            f"SELECT {_MEMBER_COLUMNS} FROM members WHERE {column} LIKE ? ESCAPE '\\' "
            f"ORDER BY {column} COLLATE NOCASE LIMIT ?",
            [prefix, limit],
        )
    words = name_words(text)
    if len(found) < limit and words is not None:
        take(
            f"SELECT {_MEMBER_COLUMNS} FROM members WHERE rowid IN "
            f"(SELECT rowid FROM {NAME_INDEX} WHERE {NAME_INDEX} MATCH ? LIMIT ?) ORDER BY name COLLATE NOCASE",
            [words, limit],
        )
    if len(found) < limit and len(text) >= 2:
        anywhere = like_anywhere(text)
        digits = re.sub(r"\D", "", text)
        phone_clause = ""
        params: list = [anywhere, anywhere, anywhere]
        if len(digits) >= 3:
            # Phones are matched on their digits, whatever the punctuation typed or stored.
            phone_clause = " OR replace(replace(replace(replace(phone, '-', ''), ' ', ''), '+', ''), '.', '') LIKE ?"
            params.append(like_anywhere(digits))
        take(
            f"SELECT {_MEMBER_COLUMNS} FROM members WHERE name LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\' "
            f"OR phone LIKE ? ESCAPE '\\'{phone_clause} LIMIT ?",
            params + [limit],
        )
    return list(found.values())[:limit]


_PRODUCT_LIKE = "p.product_id LIKE :pat ESCAPE '\\' OR p.name LIKE :pat ESCAPE '\\'"
"""A product whose id or name matches the LIKE pattern ``:pat``."""


def search_products(db: Database, text: str, at: datetime, limit: int = 8) -> list[Product]:
    """Products whose id or name matches ``text`` (exact id first, then prefixes, then anywhere), priced at ``at``.

    Products without a price in force at ``at`` cannot be sold and are left out.
    """
    text = text.strip()
    price = """(SELECT price FROM prices r WHERE r.product_id = p.product_id AND r.valid_from <= :at
                 ORDER BY r.valid_from DESC LIMIT 1)"""
    found: dict[str, Product] = {}
    queries = [
        ("p.product_id = :text", {"text": text}),
        (_PRODUCT_LIKE, {"pat": like_prefix(text)}),
        (_PRODUCT_LIKE, {"pat": like_anywhere(text)}),
    ]
    for where, params in queries:
        if len(found) >= limit:
            break
        rows = db.execute(
            f"SELECT p.product_id, p.name, p.category, {price} AS price FROM products p WHERE {where} "
            "ORDER BY p.name COLLATE NOCASE LIMIT :limit",
            {**params, "at": ts_text(at), "limit": limit + len(found)},
        )
        for product_id, name, category, amount in rows:
            if amount is not None and len(found) < limit:
                found.setdefault(product_id, Product(product_id, name, category, amount))
    return list(found.values())


def unpriced_product(db: Database, text: str, at: datetime) -> str | None:
    """The name of a product matching ``text`` that :func:`search_products` left out for having no
    price in force at ``at`` (so the till can say why it cannot sell it), or None."""
    row = db.execute(
        f"""
        SELECT p.name FROM products p
         WHERE (p.product_id = :text OR {_PRODUCT_LIKE})
           AND NOT EXISTS (SELECT 1 FROM prices r WHERE r.product_id = p.product_id AND r.valid_from <= :at)
         ORDER BY p.product_id = :text DESC, p.name COLLATE NOCASE LIMIT 1
        """,
        {"text": text.strip(), "pat": like_anywhere(text.strip()), "at": ts_text(at)},
    ).fetchone()
    return row[0] if row else None


def recent_sales(
    db: Database, member_id: str | None, limit: int = 10, *, returnable_only: bool = False
) -> list[SaleSummary]:
    """A member's latest sales and returns, newest first (only sales with units left to return, if
    asked); with no member, the latest of every till, members' and anonymous ones alike."""
    where = "1" if member_id is None else MEMBER_SALES
    if returnable_only:
        where += " AND s.kind = 'sale'"
    rows = _sale_summaries(db, where, {"member": member_id}, limit * 4 if returnable_only else limit)
    if returnable_only:
        rows = [row for row in rows if row.returnable > 0]
    return rows[:limit]


def sale_summary(db: Database, sale_id: str) -> SaleSummary | None:
    """One sale's summary (None when the id is unknown)."""
    rows = _sale_summaries(db, "s.sale_id = :sale", {"sale": sale_id}, 1)
    return rows[0] if rows else None


PICK_SALES = "SELECT s.rowid AS id FROM sales s WHERE {where} ORDER BY s.ts DESC, s.rowid DESC LIMIT :limit"
"""The newest sales that ``where`` holds for. Ties in time go newest written first: the time index
holds the rowid, so with no condition on the member the latest sales of every till come off its end
without a sort."""

MEMBER_SALES = "s.sale_id IN (SELECT sale_id FROM sale_lines WHERE member_id = :member)"
"""A member's sales, found through their lines' history index (every sale has a line)."""


def _sale_summaries(db: Database, where: str, params: dict, limit: int) -> list[SaleSummary]:
    sql = f"""
        SELECT s.sale_id, s.ts, s.kind, s.original_sale_id, s.discount_code, s.subtotal, s.discount_total,
               s.total, s.points_earned + s.points_bonus, s.points_redeemed,
               (SELECT coalesce(sum(qty), 0) FROM sale_lines l WHERE l.sale_id = s.sale_id) AS units,
               CASE WHEN s.kind = 'sale' THEN
                   (SELECT coalesce(sum(l.qty), 0) FROM sales r JOIN sale_lines l ON l.sale_id = r.sale_id
                     WHERE r.original_sale_id = s.sale_id AND r.kind = 'return')
               ELSE 0 END AS returned
          FROM ({PICK_SALES.format(where=where)}) picked
          JOIN sales s ON s.rowid = picked.id
         ORDER BY s.ts DESC, s.rowid DESC
    """
    out = []
    for sid, ts, kind, original, code, subtotal, discount, total, earned, redeemed, units, returned in db.execute(
        sql, {**params, "limit": limit}
    ):
        out.append(
            SaleSummary(
                sid, parse_ts(ts), kind, original, code, subtotal, discount, total,
                units, units - returned if kind == "sale" else 0, earned, redeemed,
            )
        )
    return out


def point_history(db: Database, member_id: str, limit: int = 200) -> list[PointRow]:
    """A member's point movements, newest first: the audit trail the manager reads. An ``expire``
    row, which has no reason of its own, names the lot that lapsed (``earn of 2026-03-02 lapsed``)."""
    return [
        PointRow(
            mid, parse_ts(ts), kind, points,
            reason or (f"{lot_kind} of {lot_ts[:10]} lapsed" if lot_kind else ""),
            sale_id, parse_ts(exp) if exp else None,
        )
        for mid, ts, kind, points, reason, sale_id, exp, lot_kind, lot_ts in db.execute(
            """
            SELECT m.movement_id, m.ts, m.kind, m.points, m.reason, m.sale_id, m.expires_at, lot.kind, lot.ts
              FROM point_movements m LEFT JOIN point_movements lot ON lot.movement_id = m.lot_id
             WHERE m.member_id = ? ORDER BY m.ts DESC, m.movement_id DESC LIMIT ?
            """,
            [member_id, limit],
        )
    ]


def membership_history(db: Database, member_id: str) -> list[tuple[datetime, str]]:
    """Joins and resignations, oldest first."""
    return [
        (parse_ts(ts), status)
        for ts, status in db.execute(
            "SELECT ts, status FROM memberships WHERE member_id = ? ORDER BY ts, id", [member_id]
        )
    ]


def member_details(db: Database, member_id: str) -> MemberDetails | None:
    """A member's personal details and cached totals (None when unknown)."""
    row = db.execute(
        """
        SELECT m.member_id, coalesce(m.name, ''), coalesce(m.email, ''), coalesce(m.phone, ''),
               coalesce(m.birthday, ''), m.created_at, m.erased_at,
               coalesce(s.visits, 0), s.last_visit, coalesce(s.spend, 0), coalesce(s.refunds, 0),
               coalesce(s.points_net, 0)
          FROM members m LEFT JOIN member_summary s ON s.member_id = m.member_id
         WHERE m.member_id = ?
        """,
        [member_id],
    ).fetchone()
    if row is None:
        return None
    mid, name, email, phone, birthday, created, erased, visits, last, spend, refunds, points = row
    return MemberDetails(
        mid, name, email, phone, birthday, parse_ts(created), parse_ts(erased) if erased else None,
        visits, parse_ts(last) if last else None, spend, refunds, points,
    )


_UNACCENTED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i"})
"""Latin letters that Unicode does not decompose into a base letter and an accent."""


def free_member_id(db: Database, wanted: str) -> str:
    """An unused member id made from ``wanted`` (a name, say): ``ann-lee``, else ``ann-lee-2``, …

    Accents come off Latin letters (``Zoë Łukasiewicz`` is ``zoe-lukasiewicz``, easy to type at
    the till); letters of other scripts stay as they are (``юлия-петрова``)."""
    letters = unicodedata.normalize("NFKD", wanted.strip().lower()).translate(_UNACCENTED)
    letters = "".join(c for c in letters if not unicodedata.combining(c))
    base = re.sub(r"[\W_]+", "-", letters).strip("-") or "member"
    base = base[:24].rstrip("-")
    taken = {
        row[0]
        for row in db.execute(
            "SELECT member_id FROM members WHERE member_id = ? OR member_id LIKE ? ESCAPE '\\'",
            [base, like_prefix(base + "-")],
        )
    }
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


# -- the member list --------------------------------------------------------------------------


def _sort_key(program: Program | None, sort: str) -> str:
    """The SQL expression a sort orders by; all but "last visit" match an index of ``schema_browse``."""
    if sort == "tier":
        # The tier is a step function of its basis, so ordering by the basis orders by tier.
        # Points-based programmes rank by cached points; spend-based ones by net spend (for a
        # rolling window this is all-time net spend: close, not exact; the tier column is exact).
        if program is not None and program.tiers is not None and program.tiers.basis == "points":
            return "s.points_net"
        return "s.spend - s.refunds"
    return {
        "spend": "s.spend - s.refunds",
        "points": "s.points_net",
        "last_visit": "s.last_visit",
        "name": "m.name COLLATE NOCASE",
        "member_id": "m.member_id",
    }[sort]


_ROW_COLUMNS = """m.member_id, coalesce(m.name, ''), m.erased_at IS NOT NULL, coalesce(s.visits, 0), s.last_visit,
                  coalesce(s.spend, 0), coalesce(s.refunds, 0), coalesce(s.points_net, 0)"""


def _rows(cursor) -> list[MemberRow]:
    return [
        MemberRow(mid, name, bool(erased), visits, parse_ts(last) if last else None, spend, refunds, points)
        for mid, name, erased, visits, last, spend, refunds, points in cursor
    ]


def count_members(db: Database, search: str = "") -> int:
    """How many members match ``search`` (id, name, e-mail or phone prefix, or words of the name); all when empty."""
    search = search.strip()
    if not search:
        return db.execute("SELECT count(*) FROM members").fetchone()[0]
    sql, params = _hits(search)
    if _matches_at_least(db, params, SCAN_TO_COUNT_ABOVE):
        # So many that reading every member once is cheaper than gathering the matches' ids.
        where = _search_filter("words" in params)
        return db.execute(f"SELECT count(*) FROM members m WHERE {where}", params).fetchone()[0]
    return db.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0]


SCAN_TO_COUNT_ABOVE = 20_000
"""Past this many matches a search's count reads the members table instead of the matches' ids
(``m``, matching all 100,000 members: 41 -> 17 ms)."""


def _matches_at_least(db: Database, params: dict, count: int) -> bool:
    """Whether the prefix matches at least ``count`` id, name, e-mail or phone entries (a cheap bound)."""
    parts = " UNION ALL ".join(
        f"SELECT 1 FROM members WHERE {column} LIKE :pat ESCAPE '\\'" for column in ("member_id", "name", "email", "phone")
    )
    return db.execute(f"SELECT count(*) FROM ({parts} LIMIT {int(count)})", params).fetchone()[0] >= count


def _search_filter(with_words: bool) -> str:
    """A WHERE condition on ``members m`` true for the members a search matches (see :func:`_hits`).

    Unary + keeps SQLite from answering the LIKEs off their own indexes: the callers read the
    members in an order of their own and test each.
    """
    condition = """(+m.member_id LIKE :pat ESCAPE '\\' OR +m.name LIKE :pat ESCAPE '\\'
                    OR +m.email LIKE :pat ESCAPE '\\' OR +m.phone LIKE :pat ESCAPE '\\'"""
    if with_words:
        condition += f" OR m.rowid IN (SELECT rowid FROM {NAME_INDEX} WHERE {NAME_INDEX} MATCH :words)"
    return condition + ")"


def _hits(search: str) -> tuple[str, dict]:
    """The SQL of the members ``search`` matches (by rowid), and its parameters."""
    params = {"pat": like_prefix(search)}
    words = name_words(search)
    if words is None:
        return _HITS_SQL, params
    return _HITS_SQL + f" UNION SELECT rowid FROM {NAME_INDEX} WHERE {NAME_INDEX} MATCH :words", {**params, "words": words}


_HITS_SQL = """
    SELECT rowid AS hit FROM members WHERE member_id LIKE :pat ESCAPE '\\'
    UNION SELECT rowid FROM members WHERE name LIKE :pat ESCAPE '\\'
    UNION SELECT rowid FROM members WHERE email LIKE :pat ESCAPE '\\'
    UNION SELECT rowid FROM members WHERE phone LIKE :pat ESCAPE '\\'
"""
"""The members a search prefix matches, by rowid: every NOCASE index carries the rowid, so each
part is read off its index alone (a first letter at 100,000 members: count 10.4 -> 2.7 ms)."""


def member_page(
    db: Database,
    program: Program | None = None,
    *,
    search: str = "",
    sort: str = "spend",
    descending: bool = True,
    offset: int = 0,
    limit: int = 50,
) -> MemberPage:
    """One page of the member list, filtered by a search prefix and sorted, straight from SQL.

    Without a search, the page is read off an index in sort order (members with no cached totals
    yet, if any, come after them, or before when ascending), so opening the list or paging deep
    into it never sorts the whole table; "last visit" alone keeps the page's top rows while it
    reads ``member_summary`` once. With a search, only the matching members are sorted.
    """
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r} (expected one of {', '.join(SORTS)})")
    search = search.strip()
    offset = max(0, offset)
    key = _sort_key(program, sort)
    direction = "DESC" if descending else "ASC"
    order = f"{key} {direction}, m.member_id {direction}"
    # The summary-driven page ties on s.member_id so the index's own order satisfies ORDER BY.
    cached_order = f"{key} {direction}, s.member_id {direction}"
    if search:
        hits, params = _hits(search)
        params.update(limit=limit, offset=offset)
        total = count_members(db, search)
        if total > WALK_ABOVE and offset < WALK_ABOVE:  # a broad search's first pages
            rows = _walk_in_order(db, params, sort, key, direction, limit)
            if rows is not None:
                return MemberPage(tuple(rows), offset, total, sort, descending, search)
        rows = _rows(
            db.execute(
                f"""
                SELECT {_ROW_COLUMNS} FROM ({hits}) h
                  JOIN members m ON m.rowid = h.hit
                  LEFT JOIN member_summary s ON s.member_id = m.member_id
                 ORDER BY {order} LIMIT :limit OFFSET :offset
                """,
                params,
            )
        )
        return MemberPage(tuple(rows), offset, total, sort, descending, search)
    total = count_members(db)
    if sort in ("name", "member_id"):
        rows = _rows(
            db.execute(
                f"""
                SELECT {_ROW_COLUMNS} FROM members m LEFT JOIN member_summary s ON s.member_id = m.member_id
                 ORDER BY {order} LIMIT ? OFFSET ?
                """,
                [limit, offset],
            )
        )
        return MemberPage(tuple(rows), offset, total, sort, descending, search)
    # Members with a cached summary, in index order; the (rare) ones without come as a block
    # at the "zero / never" end of the order.
    cached = db.execute("SELECT count(*) FROM member_summary").fetchone()[0]
    missing = max(0, total - cached)
    first, second = ("cached", "missing") if descending else ("missing", "cached")
    sizes = {"cached": cached, "missing": missing}
    rows: list[MemberRow] = []
    start = offset
    for part in (first, second):
        size = sizes[part]
        if start < size and len(rows) < limit:
            take = limit - len(rows)
            if part == "cached":
                rows += _rows(
                    db.execute(
                        f"""
                        SELECT {_ROW_COLUMNS} FROM member_summary s JOIN members m ON m.member_id = s.member_id
                         ORDER BY {cached_order} LIMIT ? OFFSET ?
                        """,
                        [take, start],
                    )
                )
            else:
                rows += _rows(
                    db.execute(
                        f"""
                        SELECT {_ROW_COLUMNS} FROM members m LEFT JOIN member_summary s ON s.member_id = m.member_id
                         WHERE s.member_id IS NULL ORDER BY m.member_id {direction} LIMIT ? OFFSET ?
                        """,
                        [take, start],
                    )
                )
            start = 0
        else:
            start -= size
    return MemberPage(tuple(rows), offset, total, sort, descending, search)


WALK_ABOVE = 2000
"""A search matching more members than this reads its page by walking the sort order's index
and keeping the matches, instead of sorting every match: ``m`` matched all 100,000 members'
ids, and sorting them for one page took 170 ms; the walk finds the first page in 3 ms."""


def _walk_in_order(db: Database, params: dict, sort: str, key: str, direction: str, limit: int):
    """The page of a broad search read in index order, or None where that walk cannot give it.

    For the summary sorts the walk covers members with cached totals (``member_summary``): in
    descending order members without totals come last, in ascending order first, so ascending
    walks only when every member has totals. When the walk runs out before the page is full,
    the page may reach members without totals, and the caller's sorted matches give it instead.
    """
    matches = _search_filter("words" in params)
    if sort in ("name", "member_id"):
        source = "members m LEFT JOIN member_summary s ON s.member_id = m.member_id"
        order = f"{key} {direction}, m.member_id {direction}"
    elif sort in ("tier", "spend", "points") and (direction == "DESC" or _all_have_totals(db)):
        source = "member_summary s CROSS JOIN members m ON m.member_id = s.member_id"
        order = f"{key} {direction}, s.member_id {direction}"
    else:
        return None
    rows = _rows(
        db.execute(
            f"SELECT {_ROW_COLUMNS} FROM {source} WHERE {matches} ORDER BY {order} LIMIT :limit OFFSET :offset",
            params,
        )
    )
    return rows if len(rows) == limit else None


def _all_have_totals(db: Database) -> bool:
    """Whether every member has a ``member_summary`` row (its rows are a subset of the members)."""
    return db.execute("SELECT (SELECT count(*) FROM members) = (SELECT count(*) FROM member_summary)").fetchone()[0]


def tier_basis_order(program: Program) -> str:
    """What 'sort by tier' orders on, in words (the member list says it in its title)."""
    if program.tiers is not None and program.tiers.basis == "points":
        return "points"
    return "net spend"
