"""The loyalty programme: tiers, stamp cards, promotions, points and stacking, parsed from TOML."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction


from .money import AmountError, parse_amount, parse_number

CURRENCY_DECIMALS = {"JPY": 0, "KRW": 0, "HUF": 2, "BHD": 3, "KWD": 3}
DISCOUNT_SOURCES = ("tier", "promotion", "code")
MAX_PERCENT = Fraction(100)
MAX_DAYS = 36_500
"""Windows and expiries up to a hundred years: longer ones are mistakes, and overflow the calendar."""


class ProgramError(ValueError):
    """A programme file that cannot be used; ``key`` names the offending setting."""

    def __init__(self, key: str, message: str, source: str = "programme"):
        self.key = key
        self.source = source
        super().__init__(f"{source}: {key}: {message}")


@dataclass(frozen=True, slots=True)
class Tier:
    """One level of the tier ladder; the first has no threshold."""

    name: str
    rank: int
    threshold: int | None
    """Minor units (spend basis) or points (points basis); None for the entry tier."""
    discount_percent: Fraction = Fraction(0)
    perks: tuple[str, ...] = ()
    points_multiplier: Fraction = Fraction(1)


@dataclass(frozen=True, slots=True)
class TierRules:
    """How a member's tier is decided."""

    basis: str
    """``spend`` (net of returns) or ``points`` (earned, net of claw-backs)."""
    comparison: str
    """``above`` (strictly more than the threshold) or ``at_least``."""
    levels: tuple[Tier, ...]
    window_days: int | None = None
    """Rolling window (as_of - N days, as_of]; None means all time."""
    since_first_join: bool = False
    """Count only facts at or after the member's first activation."""

    def qualifies(self, basis: int, tier: Tier) -> bool:
        """Whether a basis amount reaches ``tier``."""
        if tier.threshold is None:
            return True
        if self.comparison == "above":
            return basis > tier.threshold
        return basis >= tier.threshold

    def missing(self, basis: int, tier: Tier) -> int:
        """What is missing from ``basis`` to reach ``tier`` (0 when reached)."""
        if tier.threshold is None:
            return 0
        need = tier.threshold + (1 if self.comparison == "above" else 0)
        return max(0, need - basis)


@dataclass(frozen=True, slots=True)
class StampCard:
    """Buy ``buy`` qualifying units, the next one is free, then the count starts again."""

    name: str
    buy: int
    products: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()

    def covers(self, product_id: str, category: str | None) -> bool:
        return product_id in self.products or (category is not None and category in self.categories)


@dataclass(frozen=True, slots=True)
class HistoryCondition:
    """Conditions over what a member has bought (net of returns)."""

    all_of: frozenset[str] = frozenset()
    none_of: frozenset[str] = frozenset()
    scope: frozenset[str] = frozenset()
    """Products whose spend counts towards ``spend_above``; default all_of | none_of."""
    spend_above: int | None = None
    window_days: int | None = None


@dataclass(frozen=True, slots=True)
class BasketCondition:
    """Conditions over the basket being rung up."""

    min_total: int | None = None
    buy_product: str | None = None
    buy_qty: int = 0
    get_qty: int = 0


@dataclass(frozen=True, slots=True)
class Reward:
    """What a promotion gives: percent off, a free product, or a message for the cashier."""

    kind: str
    percent: Fraction = Fraction(0)
    products: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    message: str = ""

    def covers(self, product_id: str, category: str | None) -> bool:
        if not self.products and not self.categories:
            return True
        return product_id in self.products or (category is not None and category in self.categories)


@dataclass(frozen=True, slots=True)
class Promotion:
    """A named promotion: who qualifies, and what they get."""

    name: str
    description: str
    history: HistoryCondition | None
    basket: BasketCondition | None
    reward: Reward


@dataclass(frozen=True, slots=True)
class PointsPeriod:
    """A date range with a points multiplier (double points week)."""

    start: date
    end: date
    multiplier: Fraction


@dataclass(frozen=True, slots=True)
class PointsRules:
    """Earning, bonuses, redemption and expiry of points."""

    per_unit: int
    """Points per 1.00 of the currency actually paid, rounded down per sale."""
    redeem_points: int = 0
    """Points worth 1.00 of discount; 0 means points cannot be redeemed."""
    expiry_days: int | None = None
    expiring_soon_days: int = 30
    signup_bonus: int = 0
    first_purchase_bonus: int = 0
    birthday_bonus: int = 0
    periods: tuple[PointsPeriod, ...] = ()


@dataclass(frozen=True, slots=True)
class Stacking:
    """How percentage discounts combine on a line; free items always apply."""

    policy: str = "best"
    order: tuple[str, ...] = DISCOUNT_SOURCES


@dataclass(frozen=True, slots=True)
class Program:
    """A whole loyalty programme, as read from its file."""

    name: str
    title: str
    currency: str
    decimals: int
    tiers: TierRules | None
    stamp_cards: tuple[StampCard, ...] = ()
    promotions: tuple[Promotion, ...] = ()
    points: PointsRules | None = None
    stacking: Stacking = field(default_factory=Stacking)

    def tier_named(self, name: str) -> Tier | None:
        if self.tiers is None:
            return None
        return next((t for t in self.tiers.levels if t.name == name), None)


def program_from_toml(text: str, source: str = "programme") -> Program:
    """Parse a programme file; any problem raises ProgramError naming the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProgramError("(file)", f"not valid TOML: {exc}", source) from None
    return _Reader(source).program(data)


class _Reader:
    """Reads the TOML tree with messages that name the key at fault."""

    def __init__(self, source: str):
        self.source = source
        self.decimals = 2

    def fail(self, key: str, message: str) -> ProgramError:
        return ProgramError(key, message, self.source)

    def table(self, data: dict, key: str, path: str, required: bool = False) -> dict | None:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(path, "is missing")
            return None
        if not isinstance(value, dict):
            raise self.fail(path, "must be a table")
        return value

    def known(self, data: dict, path: str, keys: set[str]) -> None:
        for key in data:
            if key not in keys:
                where = f"{path}.{key}" if path else key
                raise self.fail(where, f"is not a known setting (expected one of: {', '.join(sorted(keys))})")

    def string(self, data: dict, key: str, path: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if value is None:
            raise self.fail(path, "is missing")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "must be non-empty text")
        return value

    def optional_text(self, data: dict, key: str, path: str) -> str:
        value = data.get(key, "")
        if not isinstance(value, str):
            raise self.fail(path, "must be text")
        return value

    def integer(
        self, data: dict, key: str, path: str, default: int | None = None, minimum: int = 0, maximum: int = 10**9
    ) -> int | None:
        value = data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, "must be a whole number")
        if value < minimum:
            raise self.fail(path, f"must be at least {minimum}")
        if value > maximum:
            raise self.fail(path, f"must be at most {maximum:,}")
        return value

    def amount(self, data: dict, key: str, path: str) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(path, 'must be an amount written as text, e.g. "300.00"')
        try:
            minor = parse_amount(value, self.decimals)
        except AmountError as exc:
            raise self.fail(path, str(exc)) from None
        if minor < 0:
            raise self.fail(path, "must not be negative")
        return minor

    def number(self, data: dict, key: str, path: str, default: Fraction, maximum: Fraction | None = None) -> Fraction:
        value = data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.fail(path, 'must be a decimal written as text, e.g. "12.5"')
        try:
            number = parse_number(str(value))
        except AmountError as exc:
            raise self.fail(path, str(exc)) from None
        if number < 0:
            raise self.fail(path, "must not be negative")
        if maximum is not None and number > maximum:
            raise self.fail(path, f"must be at most {maximum}")
        return number

    def names(self, data: dict, key: str, path: str) -> frozenset[str]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(path, "must be a list of names")
        return frozenset(value)

    def day(self, data: dict, key: str, path: str) -> date:
        value = data.get(key)
        if isinstance(value, datetime):
            raise self.fail(path, "must be a date such as 2026-12-01, without a time")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(path, "must be a date such as 2026-12-01")

    def choice(self, data: dict, key: str, path: str, options: tuple[str, ...], default: str) -> str:
        value = data.get(key, default)
        if value not in options:
            raise self.fail(path, f"must be one of: {', '.join(options)}")
        return value

    # -- sections -----------------------------------------------------------------------

    def program(self, data: dict) -> Program:
        self.known(data, "", {"program", "tiers", "stamp_cards", "promotions", "points", "stacking"})
        head = self.table(data, "program", "program", required=True)
        self.known(head, "program", {"name", "title", "currency", "decimals"})
        name = self.string(head, "name", "program.name")
        currency = self.string(head, "currency", "program.currency")
        if len(currency) != 3 or not currency.isalpha():
            raise self.fail("program.currency", "must be a three-letter currency code such as USD")
        currency = currency.upper()
        self.decimals = self.integer(
            head, "decimals", "program.decimals", default=CURRENCY_DECIMALS.get(currency, 2)
        )
        if self.decimals > 4:
            raise self.fail("program.decimals", "must be at most 4")
        points = self.points(data)
        cards = self.stamp_cards(data)
        return Program(
            name=name,
            title=self.optional_text(head, "title", "program.title") or name,
            currency=currency,
            decimals=self.decimals,
            tiers=self.tiers(data, points),
            stamp_cards=cards,
            promotions=self.promotions(data),
            points=points,
            stacking=self.stacking(data),
        )

    def tiers(self, data: dict, points: PointsRules | None) -> TierRules | None:
        section = self.table(data, "tiers", "tiers")
        if section is None:
            return None
        self.known(section, "tiers", {"basis", "comparison", "window_days", "since_first_join", "levels"})
        basis = self.choice(section, "basis", "tiers.basis", ("spend", "points"), "spend")
        if basis == "points" and points is None:
            raise self.fail("tiers.basis", "is points, but the programme has no [points] section")
        comparison = self.choice(section, "comparison", "tiers.comparison", ("above", "at_least"), "at_least")
        window = self.integer(section, "window_days", "tiers.window_days", minimum=1, maximum=MAX_DAYS)
        since = section.get("since_first_join", False)
        if not isinstance(since, bool):
            raise self.fail("tiers.since_first_join", "must be true or false")
        raw_levels = section.get("levels")
        if not isinstance(raw_levels, list) or not raw_levels:
            raise self.fail("tiers.levels", "must list at least one tier ([[tiers.levels]])")
        levels: list[Tier] = []
        seen: set[str] = set()
        for index, raw in enumerate(raw_levels):
            path = f"tiers.levels[{index}]"
            if not isinstance(raw, dict):
                raise self.fail(path, "must be a table")
            self.known(raw, path, {"name", "threshold", "discount_percent", "perks", "points_multiplier"})
            tier_name = self.string(raw, "name", f"{path}.name")
            if tier_name in seen:
                raise self.fail(f"{path}.name", f"{tier_name!r} is used twice")
            seen.add(tier_name)
            if basis == "points":
                threshold = self.integer(raw, "threshold", f"{path}.threshold")
            else:
                threshold = self.amount(raw, "threshold", f"{path}.threshold")
            if index == 0 and threshold is not None:
                raise self.fail(f"{path}.threshold", "the first tier is the entry tier and takes no threshold")
            if index > 0 and threshold is None:
                raise self.fail(f"{path}.threshold", "is missing")
            if levels and levels[-1].threshold is not None and threshold <= levels[-1].threshold:
                raise self.fail(f"{path}.threshold", "must be higher than the tier before it")
            perks = raw.get("perks", [])
            if not isinstance(perks, list) or not all(isinstance(p, str) for p in perks):
                raise self.fail(f"{path}.perks", "must be a list of text")
            levels.append(
                Tier(
                    name=tier_name,
                    rank=index + 1,
                    threshold=threshold,
                    discount_percent=self.number(
                        raw, "discount_percent", f"{path}.discount_percent", Fraction(0), MAX_PERCENT
                    ),
                    perks=tuple(perks),
                    points_multiplier=self.number(raw, "points_multiplier", f"{path}.points_multiplier", Fraction(1)),
                )
            )
        return TierRules(basis, comparison, tuple(levels), window, since)

    def stamp_cards(self, data: dict) -> tuple[StampCard, ...]:
        raw_cards = data.get("stamp_cards", [])
        if not isinstance(raw_cards, list):
            raise self.fail("stamp_cards", "must be an array of tables ([[stamp_cards]])")
        cards = []
        for index, raw in enumerate(raw_cards):
            path = f"stamp_cards[{index}]"
            if not isinstance(raw, dict):
                raise self.fail(path, "must be a table")
            self.known(raw, path, {"name", "buy", "products", "categories"})
            products = self.names(raw, "products", f"{path}.products")
            categories = self.names(raw, "categories", f"{path}.categories")
            if not products and not categories:
                raise self.fail(f"{path}.products", "a stamp card needs products or categories")
            cards.append(
                StampCard(
                    name=self.string(raw, "name", f"{path}.name"),
                    buy=self.integer(raw, "buy", f"{path}.buy", minimum=1) or self._missing(f"{path}.buy"),
                    products=products,
                    categories=categories,
                )
            )
        return tuple(cards)

    def _missing(self, path: str):
        raise self.fail(path, "is missing")

    def promotions(self, data: dict) -> tuple[Promotion, ...]:
        raw_promos = data.get("promotions", [])
        if not isinstance(raw_promos, list):
            raise self.fail("promotions", "must be an array of tables ([[promotions]])")
        promos = []
        names: set[str] = set()
        for index, raw in enumerate(raw_promos):
            path = f"promotions[{index}]"
            if not isinstance(raw, dict):
                raise self.fail(path, "must be a table")
            self.known(raw, path, {"name", "description", "history", "basket", "reward"})
            name = self.string(raw, "name", f"{path}.name")
            if name in names:
                raise self.fail(f"{path}.name", f"{name!r} is used twice")
            names.add(name)
            history = self.history(raw, path)
            basket = self.basket(raw, path)
            if history is None and basket is None:
                raise self.fail(f"{path}.history", "a promotion needs a history or a basket condition")
            promos.append(
                Promotion(
                    name=name,
                    description=self.optional_text(raw, "description", f"{path}.description"),
                    history=history,
                    basket=basket,
                    reward=self.reward(raw, path),
                )
            )
        return tuple(promos)

    def history(self, raw: dict, path: str) -> HistoryCondition | None:
        section = self.table(raw, "history", f"{path}.history")
        if section is None:
            return None
        where = f"{path}.history"
        self.known(section, where, {"all_of", "none_of", "scope", "spend_above", "window_days"})
        all_of = self.names(section, "all_of", f"{where}.all_of")
        none_of = self.names(section, "none_of", f"{where}.none_of")
        if all_of & none_of:
            raise self.fail(f"{where}.none_of", "names a product that all_of also names")
        scope = self.names(section, "scope", f"{where}.scope") or (all_of | none_of)
        return HistoryCondition(
            all_of=all_of,
            none_of=none_of,
            scope=scope,
            spend_above=self.amount(section, "spend_above", f"{where}.spend_above"),
            window_days=self.integer(section, "window_days", f"{where}.window_days", minimum=1, maximum=MAX_DAYS),
        )

    def basket(self, raw: dict, path: str) -> BasketCondition | None:
        section = self.table(raw, "basket", f"{path}.basket")
        if section is None:
            return None
        where = f"{path}.basket"
        self.known(section, where, {"min_total", "buy_product", "buy_qty", "get_qty"})
        buy_product = section.get("buy_product")
        if buy_product is not None and (not isinstance(buy_product, str) or not buy_product):
            raise self.fail(f"{where}.buy_product", "must be a product id")
        buy_qty = self.integer(section, "buy_qty", f"{where}.buy_qty", default=0)
        get_qty = self.integer(section, "get_qty", f"{where}.get_qty", default=0)
        if buy_product is not None and (buy_qty < 1 or get_qty < 1):
            raise self.fail(f"{where}.buy_qty", "buy X get Y needs buy_qty and get_qty of at least 1")
        return BasketCondition(
            min_total=self.amount(section, "min_total", f"{where}.min_total"),
            buy_product=buy_product,
            buy_qty=buy_qty,
            get_qty=get_qty,
        )

    def reward(self, raw: dict, path: str) -> Reward:
        where = f"{path}.reward"
        section = self.table(raw, "reward", where, required=True)
        self.known(section, where, {"kind", "percent", "products", "categories", "message"})
        kind = self.choice(section, "kind", f"{where}.kind", ("percent", "free_product", "message"), "message")
        reward = Reward(
            kind=kind,
            percent=self.number(section, "percent", f"{where}.percent", Fraction(0), MAX_PERCENT),
            products=self.names(section, "products", f"{where}.products"),
            categories=self.names(section, "categories", f"{where}.categories"),
            message=self.optional_text(section, "message", f"{where}.message"),
        )
        if kind == "percent" and reward.percent <= 0:
            raise self.fail(f"{where}.percent", "a percent reward needs a percent above 0")
        if kind == "free_product" and len(reward.products) != 1:
            raise self.fail(f"{where}.products", "a free_product reward names exactly one product")
        if kind == "message" and not reward.message:
            raise self.fail(f"{where}.message", "a message reward needs a message")
        return reward

    def points(self, data: dict) -> PointsRules | None:
        section = self.table(data, "points", "points")
        if section is None:
            return None
        self.known(
            section,
            "points",
            {
                "per_unit", "redeem_points", "expiry_days", "expiring_soon_days",
                "signup_bonus", "first_purchase_bonus", "birthday_bonus", "periods",
            },
        )
        per_unit = self.integer(section, "per_unit", "points.per_unit")
        if per_unit is None:
            raise self.fail("points.per_unit", "is missing")
        raw_periods = section.get("periods", [])
        if not isinstance(raw_periods, list):
            raise self.fail("points.periods", "must be an array of tables ([[points.periods]])")
        periods = []
        for index, raw in enumerate(raw_periods):
            path = f"points.periods[{index}]"
            if not isinstance(raw, dict):
                raise self.fail(path, "must be a table")
            self.known(raw, path, {"start", "end", "multiplier"})
            start, end = self.day(raw, "start", f"{path}.start"), self.day(raw, "end", f"{path}.end")
            if end < start:
                raise self.fail(f"{path}.end", "is before start")
            periods.append(PointsPeriod(start, end, self.number(raw, "multiplier", f"{path}.multiplier", Fraction(1))))
        return PointsRules(
            per_unit=per_unit,
            redeem_points=self.integer(section, "redeem_points", "points.redeem_points", default=0),
            expiry_days=self.integer(section, "expiry_days", "points.expiry_days", minimum=1, maximum=MAX_DAYS),
            expiring_soon_days=self.integer(
                section, "expiring_soon_days", "points.expiring_soon_days", default=30, maximum=MAX_DAYS
            ),
            signup_bonus=self.integer(section, "signup_bonus", "points.signup_bonus", default=0),
            first_purchase_bonus=self.integer(section, "first_purchase_bonus", "points.first_purchase_bonus", default=0),
            birthday_bonus=self.integer(section, "birthday_bonus", "points.birthday_bonus", default=0),
            periods=tuple(periods),
        )

    def stacking(self, data: dict) -> Stacking:
        section = self.table(data, "stacking", "stacking")
        if section is None:
            return Stacking()
        self.known(section, "stacking", {"policy", "order"})
        policy = self.choice(section, "policy", "stacking.policy", ("best", "stack"), "best")
        order = section.get("order", list(DISCOUNT_SOURCES))
        if (
            not isinstance(order, list)
            or not all(isinstance(source, str) for source in order)
            or sorted(order) != sorted(DISCOUNT_SOURCES)
        ):
            raise self.fail("stacking.order", f"must list each of {', '.join(DISCOUNT_SOURCES)} once")
        return Stacking(policy, tuple(order))


