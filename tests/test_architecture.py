"""The direction of imports: the engine is pure, the ledger knows no UI."""

import subprocess
import sys

import pytest

FORBIDDEN = {
    "pos_loyalty.engine": {"sqlite3", "sqlite_utils", "textual", "typer", "rich", "click"},
    # click is not listed for the ledger: sqlite-utils itself imports it.
    "pos_loyalty.ledger": {"textual", "typer", "rich"},
    "pos_loyalty.io.importers": {"textual", "typer", "rich"},
}


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_module_imports_nothing_it_must_not(module):
    """Import the module in a fresh interpreter and look at what came with it."""
    probe = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout.split())
    leaked = {name for name in loaded if name.split(".")[0] in FORBIDDEN[module]}
    assert not leaked, f"{module} pulls in {sorted(leaked)}"
