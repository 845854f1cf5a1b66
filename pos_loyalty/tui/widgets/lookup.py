"""Type-ahead: an input with a drop-down of matches that the screen supplies ("messages up, attributes down")."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from .typeahead import TypeAheadInput


class LookupInput(TypeAheadInput):
    """The text part of a lookup: Enter picks, arrows move through the matches, Escape closes them,
    each in the order typed (see :mod:`.typeahead`); Enter in the member lookup moves on to the
    items, and what was typed after it goes there."""

    @property
    def lookup(self) -> Lookup:
        parent = self.parent
        assert isinstance(parent, Lookup)
        return parent

    def own_key(self, key: str) -> bool:
        return self.lookup.lookup_key(key)


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
        """Enter: ``value`` is the highlighted match, or None when there was none (``text`` is what was typed).

        A match counts only if it was found for the text as it is at Enter: with keys typed faster
        than the matches come back, the list on show may answer an earlier text, and Enter then
        hands the screen the text to resolve instead of that list's first line.
        """

        def __init__(self, lookup: Lookup, value: str | None, text: str) -> None:
            super().__init__()
            self.lookup = lookup
            self.value = value
            self.text = text

        @property
        def control(self) -> Lookup:
            return self.lookup

    def __init__(
        self,
        placeholder: str = "",
        *,
        clear_on_enter: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._placeholder = placeholder
        self.clear_on_enter = clear_on_enter
        """Empty the entry at Enter, ready for the next entry while the screen resolves this one."""
        self.advance_to: Lookup | None = None
        """Where focus goes at Enter (set by the screen), so that what is typed next lands there."""
        self._answered: str | None = None
        """The text the matches on show were found for."""

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
        self._answered = None

    def show_matches(self, text: str, options: list[tuple[str, str]]) -> None:
        """Show the matches for ``text``; answers to text no longer in the entry are ignored."""
        if text.strip() != self.input.value.strip():
            return
        matches = self.matches
        self._answered = text.strip()
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

    def lookup_key(self, key: str) -> bool:
        """The lookup's own keys, acted on in the order they were typed; False for any other key."""
        if key == "enter":
            self.submit()
        elif key in ("down", "up") and self.matches_open:
            self.move(1 if key == "down" else -1)
        elif key == "escape" and self.matches_open:
            self.close()
        else:
            return False
        return True

    def submit(self) -> None:
        """Enter: post :class:`Picked` for the text as it is now, then clear or move on as set."""
        text = self.input.value.strip()
        matches = self.matches
        value = None
        if self.matches_open and matches.highlighted is not None and self._answered == text:
            value = matches.get_option_at_index(matches.highlighted).id
        self.close()
        if self.clear_on_enter:
            self.clear()
        if self.advance_to is not None:
            self.screen.set_focus(self.advance_to.input)
        self.post_message(self.Picked(self, value, text))

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.close()
        self.post_message(self.Picked(self, event.option.id, self.input.value.strip()))

    @on(Input.Blurred)
    def _blurred(self, event: Input.Blurred) -> None:
        # Clicking a match blurs nothing (the list cannot take focus); Tab away closes it.
        self.close()
