"""The programme loader: the shipped programmes load, broken files are refused naming the key."""

from __future__ import annotations

import re
from datetime import datetime
from fractions import Fraction

import pytest

from pos_loyalty.engine import ProgramError, program_from_toml
from pos_loyalty.engine.points import period_multiplier, periods_at

from ..support import PROGRAMS, program_text

SHIPPED = sorted(p.stem for p in PROGRAMS.glob("*.toml"))
BAD = sorted((PROGRAMS / "bad").glob("*.toml"))


def test_the_four_seed_programmes_ship():
    assert {"coffee_shop", "tiered_pln", "points"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_programme_loads(name):
    program = program_from_toml(program_text(name), f"{name}.toml")
    assert program.name == name
    assert program.tiers is not None and len(program.tiers.levels) >= 2


def test_coffee_shop_is_the_recipe():
    """SPEC: > 400 GOLD, > 300 SILVER, > 200 BRONZE, else CLIMBING; buy 5, the 6th free."""
    program = program_from_toml(program_text("coffee_shop"))
    tiers = program.tiers
    assert tiers.comparison == "above" and tiers.window_days is None and not tiers.since_first_join
    assert [(t.name, t.threshold) for t in tiers.levels] == [
        ("CLIMBING", None), ("BRONZE", 20000), ("SILVER", 30000), ("GOLD", 40000)
    ]
    (card,) = program.stamp_cards
    assert (card.name, card.buy, card.products) == ("coffee", 5, frozenset({"coffee"}))
    promos = {p.name: p for p in program.promotions}
    assert promos["french_poodle"].history.all_of == {"dog", "beret"}
    loose = promos["loose_leaf"].history
    assert (loose.all_of, loose.none_of, loose.spend_above) == ({"coffee"}, {"tea"}, 2000)


def test_tiered_pln_is_seed_001():
    program = program_from_toml(program_text("tiered_pln"))
    tiers = program.tiers
    assert (program.currency, tiers.comparison, tiers.window_days, tiers.since_first_join) == (
        "PLN", "at_least", 365, True
    )
    assert [(t.name, t.threshold, t.discount_percent) for t in tiers.levels] == [
        ("White", None, 0), ("Green", 30000, 5), ("Silver", 100000, 8), ("Golden", 200000, 10)
    ]


def test_points_is_seed_002():
    program = program_from_toml(program_text("points"))
    rules = program.points
    assert (rules.per_unit, rules.redeem_points, rules.expiry_days) == (10, 100, 365)
    assert program.tiers.basis == "points"
    assert [(t.name, t.threshold, t.discount_percent) for t in program.tiers.levels] == [
        ("Basic", None, 5), ("Silver", 500, 10), ("Gold", 2000, 15)
    ]
    assert "free 2-day shipping" in program.tiers.levels[2].perks


def _expected_key(path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"#\s*error-key:\s*(\S+)\s*", first)
    assert match, f"{path.name}: the first line must say '# error-key: KEY'"
    return match[1]


def test_there_are_bad_programmes_to_refuse():
    assert len(BAD) >= 5


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_each_bad_programme_is_refused_naming_its_key(path):
    key = _expected_key(path)
    with pytest.raises(ProgramError) as caught:
        program_from_toml(path.read_text(encoding="utf-8"), path.name)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{path.name}: {key}: ")


BASE = '[program]\nname = "x"\ncurrency = "USD"\n'


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('[tiers]\nbasis = "spend"\n[[tiers.levels]]\nname = "a"\ndiscount_percent = 12.5\n',
         "tiers.levels[0].discount_percent"),
        ("[stamp_cards]\nbuy = 5\n", "stamp_cards"),
        ('[[stamp_cards]]\nname = "c"\nbuy = 0\nproducts = ["coffee"]\n', "stamp_cards[0].buy"),
        ('[[stamp_cards]]\nname = "c"\nbuy = 5\n', "stamp_cards[0].products"),
        ('[tiers]\nbasis = "points"\n[[tiers.levels]]\nname = "a"\n', "tiers.basis"),
        ('[tiers]\nwindow_days = 0\n[[tiers.levels]]\nname = "a"\n', "tiers.window_days"),
        ('[stacking]\npolicy = "sum"\n', "stacking.policy"),
        ('[stacking]\norder = ["tier", "code"]\n', "stacking.order"),
        ('[points]\nper_unit = 10\n[[points.periods]]\nstart = 2026-11-23\nend = 2026-11-01\n',
         "points.periods[0].end"),
        ('[extras]\nfoo = 1\n', "extras"),
    ],
)
def test_more_refusals_name_their_key(extra, key):
    with pytest.raises(ProgramError) as caught:
        program_from_toml(BASE + extra)
    assert caught.value.key == key


def test_percentages_are_exact():
    program = program_from_toml(
        BASE + '[tiers]\n[[tiers.levels]]\nname = "a"\n[[tiers.levels]]\nname = "b"\n'
        'threshold = "1.00"\ndiscount_percent = "12.5"\npoints_multiplier = "1.25"\n'
    )
    level = program.tiers.levels[1]
    assert (level.discount_percent, level.points_multiplier) == (Fraction(25, 2), Fraction(5, 4))


def test_a_non_text_stacking_order_entry_is_a_programme_error():
    with pytest.raises(ProgramError) as caught:
        program_from_toml(BASE + '[stacking]\norder = ["tier", 1, "code"]\n')
    assert caught.value.key == "stacking.order"


def test_a_bonus_period_given_as_a_date_time_is_refused_or_works():
    text = (
        BASE + "[points]\nper_unit = 10\n[[points.periods]]\n"
        'start = 2026-11-23T00:00:00\nend = 2026-11-29T23:59:59\nmultiplier = "2"\n'
    )
    try:
        program = program_from_toml(text)
    except ProgramError as exc:
        assert exc.key.startswith("points.periods[0]")
        return
    assert period_multiplier(periods_at(program.points, datetime(2026, 11, 24, 10, 0))) == 2
