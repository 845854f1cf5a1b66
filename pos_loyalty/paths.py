"""Where things live: the default ledger, the shipped fixtures and programme files."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
PROGRAMS = FIXTURES / "programs"


def data_dir() -> Path:
    """The user's data directory for pos-loyalty (XDG on Linux, the platform's elsewhere)."""
    base = os.environ.get("XDG_DATA_HOME")
    if base:
        return Path(base) / "pos-loyalty"
    if os.name == "nt":
        return Path(os.environ.get("APPDATA", Path.home())) / "pos-loyalty"
    return Path.home() / ".local" / "share" / "pos-loyalty"


def default_ledger() -> Path:
    """``$POS_LOYALTY_DB``, else ``ledger.db`` in the user's data directory."""
    env = os.environ.get("POS_LOYALTY_DB")
    return Path(env) if env else data_dir() / "ledger.db"


def shipped_program(name: str) -> Path:
    """A programme file shipped in fixtures/programs (``coffee_shop``, ``tiered_pln``, ``points``)."""
    return PROGRAMS / f"{name}.toml"
