"""Type-ahead: an input with a drop-down of matches that the screen supplies ("messages up, attributes down")."""

from __future__ import annotations

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option


class LookupInput(Input):
    """The text part of a lookup: arrows move through the matches, Escape closes them."""

    BINDINGS = [
        Binding("down", "move(1)", "Next match", show=False),
        Binding("up", "move(-1)", "Previous match", show=False),
        Binding("escape", "close", "Close matches", show=False),
    ]

    def action_move(self, step: int) -> None:
        lookup = self.parent
        if not isinstance(lookup, Lookup) or not lookup.matches_open:
            raise SkipAction()
        lookup.move(step)

    def action_close(self) -> None:
        lookup = self.parent
        if not isinstance(lookup, Lookup) or not lookup.matches_open:
            raise SkipAction()
        lookup.close()


class Matches(OptionList, can_focus=False):
    """The drop-down under a lookup; never takes focus, so typing carries on."""


class Lookup(Vertical):
    """Type-ahead entry: posts :class:`Query` as the text changes and :class:`Picked` on Enter.

    The lookup knows nothing of members or products: its screen answers each query by calling
    :meth:`show_matches` with ``(value, label)`` pairs.
    """

    class Query(Message):
        """The text changed: the screen should look for matches."""

        def __init__(self, lookup: Lookup, text: str) -> None:
            super().__init__()
            self.lookup = lookup
            self.text = text

        @property
        def control(self) -> Lookup:
            return self.lookup

    class Picked(Message):
        """Enter: ``value`` is the highlighted match, or None when there was none (``text`` is what was typed)."""

        def __init__(self, lookup: Lookup, value: str | None, text: str) -> None:
            super().__init__()
            self.lookup = lookup
            self.value = value
            self.text = text

        @property
        def control(self) -> Lookup:
            return self.lookup

    def __init__(self, placeholder: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield LookupInput(placeholder=self._placeholder, select_on_focus=True, compact=True)
        yield Matches()

    @property
    def input(self) -> LookupInput:
        return self.query_one(LookupInput)

    @property
    def matches(self) -> Matches:
        return self.query_one(Matches)

    @property
    def value(self) -> str:
        return self.input.value

    @property
    def matches_open(self) -> bool:
        return self.matches.display and self.matches.option_count > 0

    def focus(self, scroll_visible: bool = True) -> Lookup:
        self.input.focus(scroll_visible)
        return self

    def clear(self) -> None:
        """Empty the text and close the matches."""
        with self.input.prevent(Input.Changed):
            self.input.value = ""
        self.close()

    def set_text(self, text: str) -> None:
        """Put text in the entry without asking for matches."""
        with self.input.prevent(Input.Changed):
            self.input.value = text
            self.input.cursor_position = len(text)

    def close(self) -> None:
        self.matches.clear_options()
        self.matches.display = False

    def show_matches(self, text: str, options: list[tuple[str, str]]) -> None:
        """Show the matches for ``text``; answers to text no longer in the entry are ignored."""
        if text.strip() != self.input.value.strip():
            return
        matches = self.matches
        matches.set_options([Option(label, id=value) for value, label in options])
        matches.display = bool(options) and self.input.has_focus
        if options:
            matches.highlighted = 0

    def move(self, step: int) -> None:
        matches = self.matches
        if matches.highlighted is None:
            matches.highlighted = 0
        else:
            matches.highlighted = max(0, min(matches.option_count - 1, matches.highlighted + step))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.close()
        self.post_message(self.Query(self, text))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = None
        matches = self.matches
        if self.matches_open and matches.highlighted is not None:
            value = matches.get_option_at_index(matches.highlighted).id
        self.close()
        self.post_message(self.Picked(self, value, event.value.strip()))

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.close()
        self.post_message(self.Picked(self, event.option.id, self.input.value.strip()))

    @on(Input.Blurred)
    def _blurred(self, event: Input.Blurred) -> None:
        # Clicking a match blurs nothing (the list cannot take focus); Tab away closes it.
        self.close()
