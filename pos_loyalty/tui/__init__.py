"""The Textual face of pos-loyalty: the counter a cashier uses all day, and the manager's back office.

``make_app(db_path)`` builds the app; the CLI's ``tui`` and ``demo`` commands run it.
"""
