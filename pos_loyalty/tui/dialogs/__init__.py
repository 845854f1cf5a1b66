"""Modal dialogs: each a ``ModalScreen[T]`` that ends with ``dismiss(value)`` (None when backed out of)."""
