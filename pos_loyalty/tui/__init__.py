"""The Textual face of pos-loyalty: the counter a cashier uses all day, and the manager's back office.

``make_app(db_path)`` builds the app; the CLI's ``tui`` and ``demo`` commands run it.
"""

import os

# Textual draws a changed screen on its next frame tick, at most TEXTUAL_FPS times a second
# (read once, when Textual is first imported). At its default 60 a basket change waited up to
# 17 ms for the tick; at 120 the wait is at most 8 ms, and an idle till draws nothing either way
# (bench/tui.py: basket change 29 / 39 / 56 -> 25 / 33 / 39 ms, median / p90 / max).
os.environ.setdefault("TEXTUAL_FPS", "120")
