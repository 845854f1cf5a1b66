"""Membership changes (join, resign, rejoin) and single-use discount codes."""

from __future__ import annotations

import random
from datetime import timedelta
from fractions import Fraction

import pytest

from pos_loyalty import ledger
from pos_loyalty.engine import Basket, BasketLine, member_status
from pos_loyalty.ledger import contacts
from pos_loyalty.ledger.verify import verify

from ..conftest import OPENING
from ..support import dump, half_up

AT = OPENING + timedelta(hours=1)


def sell(db, program, member, *items, at=AT, code=None):
    basket = Basket(tuple(BasketLine(p, q) for p, q in items), member_id=member)
    return ledger.record_sale(db, program, basket, at, ledger.new_sale_id(), code=code)


def status(db, program, member, at):
    return member_status(program, ledger.load_member_facts(db, member), at)


class TestResignRejoin:
    def test_a_resigned_member_has_no_tier_and_gets_no_member_discounts(self, coffee_shop):
        db, program = coffee_shop
        sell(db, program, "ann", ("dog", 1), ("coffee", 5))  # BRONZE, next coffee free
        ledger.change_membership(db, program, "ann", AT + timedelta(days=1), "resigned")
        gone = status(db, program, "ann", AT + timedelta(days=2))
        assert not gone.active and gone.tier is None and gone.promotions == ()
        receipt = sell(db, program, "ann", ("coffee", 1), ("beret", 1), at=AT + timedelta(days=2))
        assert receipt.quote.discount_total == 0

    def test_rejoining_gives_the_tier_back_counting_from_the_first_join(self, tiered_shop):
        db, program = tiered_shop
        t0 = OPENING
        ledger.add_member(db, program, "jan", t0)
        sell(db, program, "jan", ("jacket", 1), at=t0 + timedelta(days=1))
        ledger.change_membership(db, program, "jan", t0 + timedelta(days=10), "resigned")
        sell(db, program, "jan", ("dress", 1), at=t0 + timedelta(days=20))  # bought while out: counts
        ledger.change_membership(db, program, "jan", t0 + timedelta(days=30), "active")
        back = status(db, program, "jan", t0 + timedelta(days=31))
        assert back.active and back.tier.basis == 30000 + 29999 and back.tier.name == "Green"

    def test_joining_twice_or_resigning_twice_is_refused(self, coffee_shop):
        db, program = coffee_shop
        with pytest.raises(ledger.LedgerError, match="already an active member"):
            ledger.change_membership(db, program, "ann", AT, "active")
        ledger.change_membership(db, program, "ann", AT, "resigned")
        with pytest.raises(ledger.LedgerError, match="not an active member"):
            ledger.change_membership(db, program, "ann", AT + timedelta(seconds=1), "resigned")

    def test_a_change_cannot_be_dated_before_the_last(self, coffee_shop):
        db, program = coffee_shop
        ledger.change_membership(db, program, "ann", AT, "resigned")
        with pytest.raises(ledger.LedgerError):
            ledger.change_membership(db, program, "ann", AT - timedelta(minutes=1), "active")

    def test_the_sign_up_bonus_is_given_once(self, points_shop):
        db, program = points_shop
        ledger.change_membership(db, program, "ann", AT, "resigned")
        ledger.change_membership(db, program, "ann", AT + timedelta(days=1), "active")
        bonuses = db.execute(
            "SELECT count(*), sum(points) FROM point_movements WHERE member_id = 'ann' AND reason = 'sign-up'"
        ).fetchone()
        assert bonuses == (1, program.points.signup_bonus)
        assert status(db, program, "ann", AT + timedelta(days=1)).points.balance == program.points.signup_bonus

    @pytest.mark.parametrize(
        "join",
        [True, False],
    )
    def test_a_malformed_birthday_is_refused_and_nothing_written(self, points_shop, join):
        db, program = points_shop
        before = dump(db)
        with pytest.raises((ValueError, ledger.LedgerError)):
            ledger.add_member(db, program, "cat", AT, name="Cat", birthday="31/12/1990", join=join)
        assert dump(db) == before

    def test_membership_changes_are_rows_never_edits(self, coffee_shop):
        db, program = coffee_shop
        ledger.change_membership(db, program, "ann", AT, "resigned")
        ledger.change_membership(db, program, "ann", AT + timedelta(days=1), "active")
        rows = db.execute("SELECT ts, status FROM memberships WHERE member_id = 'ann' ORDER BY id").fetchall()
        assert [s for _, s in rows] == ["active", "resigned", "active"]
        events = [k for (k,) in db.execute("SELECT kind FROM outbox WHERE member_id = 'ann' ORDER BY event_id")]
        assert events[:3] == ["member_joined", "member_resigned", "member_rejoined"]
        assert verify(db) == []


class TestCodes:
    def test_issued_codes_are_unique_and_on_the_step(self, coffee_shop):
        db, _ = coffee_shop
        issued = ledger.issue_codes(db, 200, OPENING, max_percent=50, step=5, rng=random.Random(42))
        codes = [code for code, _ in issued]
        assert len(set(codes)) == 200 == db.execute("SELECT count(*) FROM codes").fetchone()[0]
        assert {p for _, p in issued} <= {Fraction(p) for p in range(5, 51, 5)}
        assert len({p for _, p in issued}) > 5

    @pytest.mark.parametrize(("max_percent", "step"), [(51, 5), (0, 5), (50, 0), (20, 30)])
    def test_bad_issue_settings_are_refused(self, coffee_shop, max_percent, step):
        db, _ = coffee_shop
        with pytest.raises(ledger.LedgerError):
            ledger.issue_codes(db, 3, OPENING, max_percent=max_percent, step=step)

    def test_a_code_is_single_use(self, coffee_shop):
        db, program = coffee_shop
        [(code, percent)] = ledger.issue_codes(db, 1, OPENING, rng=random.Random(1))
        first = sell(db, program, "ann", ("handbag", 1), code=code.lower())
        (line,) = first.quote.lines
        assert [(d.reason, d.amount) for d in line.discounts] == [
            ("code", int(half_up(line.subtotal * percent / 100)))
        ]
        before = dump(db)
        with pytest.raises(ledger.LedgerError, match=f"{code} was already used"):
            sell(db, program, "bob", ("handbag", 1), code=code)
        with pytest.raises(ledger.LedgerError, match="already used"):
            ledger.quote_for(db, program, Basket((BasketLine("handbag"),), member_id="bob"), AT, code=code)
        assert dump(db) == before
        assert db.execute("SELECT sale_id FROM code_redemptions WHERE code = ?", [code]).fetchall() == [
            (first.sale_id,)
        ]

    def test_an_unknown_code_is_refused(self, coffee_shop):
        db, program = coffee_shop
        before = dump(db)
        with pytest.raises(ledger.LedgerError, match="unknown discount code"):
            sell(db, program, "ann", ("handbag", 1), code="NOPE123")
        assert dump(db) == before

    def test_a_quote_does_not_use_the_code(self, coffee_shop):
        db, program = coffee_shop
        [(code, _)] = ledger.issue_codes(db, 1, OPENING, rng=random.Random(2))
        before = dump(db)
        ledger.quote_for(db, program, Basket((BasketLine("handbag"),), member_id="ann"), AT, code=code)
        assert dump(db) == before
        sell(db, program, "ann", ("handbag", 1), code=code)


@pytest.mark.parametrize("email", ["ann@example.com", " a.b+tag@mail.example.co.uk ", "x@y.zz"])
def test_an_e_mail_address_is_kept_as_given(email):
    assert contacts.email_address(email) == email.strip()


@pytest.mark.parametrize("email", ["Ann Smith", "ann@", "@example.com", "ann@example", "ann@@example.com", "a b@x.com"])
def test_what_is_not_an_e_mail_address_is_refused(email):
    with pytest.raises(contacts.ContactError, match="not an e-mail address"):
        contacts.email_address(email)


@pytest.mark.parametrize("phone", ["+44 20 7946 0000", "(555) 010-1234", "0601.02.03.04", "12345"])
def test_a_phone_number_is_kept_as_given(phone):
    assert contacts.phone_number(phone) == phone


@pytest.mark.parametrize("phone", ["call me", "1234", "+1 555 0101 ext 2", "12345678901234567890", "--", "555-"])
def test_what_is_not_a_phone_number_is_refused(phone):
    with pytest.raises(contacts.ContactError, match="not a phone number"):
        contacts.phone_number(phone)


def test_enrolling_with_a_mistyped_e_mail_writes_nothing(coffee_shop):
    db, program = coffee_shop
    before = db.execute("SELECT count(*) FROM members").fetchone()[0]
    with pytest.raises(ledger.LedgerError, match="not an e-mail address"):
        ledger.add_member(db, program, "zoe", OPENING, name="Zoe", email="zoe at example.com")
    assert db.execute("SELECT count(*) FROM members").fetchone()[0] == before
    assert contacts.email_address(None) is None and contacts.phone_number("  ") is None
