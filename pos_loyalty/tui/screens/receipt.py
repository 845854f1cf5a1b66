"""A receipt or return slip on screen, exactly as it is saved as text."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from ..dialogs.prompt import PromptDialog


class ReceiptScreen(ModalScreen[str | None]):
    """Enter or Escape: back to the counter; S saves the text; R starts a return of this sale."""

    BINDINGS = [
        Binding("enter,escape", "done", "Done", key_display="Enter"),
        Binding("s", "save", "Save as text"),
        Binding("r", "return_items", "Return items"),
    ]

    def __init__(self, title: str, text: str, document_id: str, *, can_return: bool) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.document_id = document_id
        self.can_return = can_return
        self.saved_to: Path | None = None
        """Where the text was last saved (tests read it)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog receipt") as box:
            box.border_title = self.title_text
            with VerticalScroll():
                yield Static(self.text, id="receipt-text", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "return_items":
            return self.can_return
        return True

    def default_path(self) -> Path:
        till = self.app.till  # type: ignore[attr-defined]
        return till.path.parent / "receipts" / f"{self.document_id}.txt"

    def action_done(self) -> None:
        self.dismiss(None)

    def action_return_items(self) -> None:
        if self.can_return:
            self.dismiss("return")

    def action_save(self) -> None:
        def save(answer: str | None) -> None:
            if not answer:
                return
            path = Path(answer).expanduser()
            try:
                self.save_to(path)
            except OSError as exc:
                self.notify(f"{path}: {exc.strerror or exc}", title="Not saved", severity="error")
                return
            self.notify(str(path), title="Receipt saved")

        self.app.push_screen(
            PromptDialog("Save as text", "File to write", value=str(self.default_path())),
            save,
        )

    def save_to(self, path: Path) -> Path:
        """Write the receipt text to ``path`` (folders are created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text, encoding="utf-8")
        self.saved_to = path
        return path
