"""An input that keeps keys typed ahead of the screen in the order they were typed.

Keys can come faster than the till draws them (a barcode scanner, a quick typist, a busy
moment). Textual queues each key on the widget that had focus when it came in and inserts a
character at once, but acts on a binding (Tab, Enter) only once the key has bubbled up to the app;
by then the characters typed after it have gone into the same field. This input moves focus on
Tab itself, in turn with the characters, and hands a key that reaches it after focus has moved on
to the widget that has focus now.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class TypeAheadInput(Input):
    """An :class:`Input` whose Tab, Shift+Tab and later keys keep the order they were typed in."""

    async def _on_key(self, event: events.Key) -> None:
        screen = self.screen
        focused = self.app.focused  # on the screen on top: a dialog opened since takes the key
        if focused is not None and focused is not self:
            event.stop()
            event.prevent_default()
            # Textual's own way in for a key (private; Textual is pinned exactly): marked as forwarded,
            # so that if it bubbles back up to the app it is not delivered a second time.
            focused._forward_event(events.Key(event.key, event.character))
            return
        if event.key in ("tab", "shift+tab"):
            event.stop()
            event.prevent_default()
            if event.key == "tab":
                screen.focus_next()
            else:
                screen.focus_previous()
            return
        if self.own_key(event.key):
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    def own_key(self, key: str) -> bool:
        """Act on ``key`` now, in turn with the characters; False leaves it to the bindings."""
        return False
