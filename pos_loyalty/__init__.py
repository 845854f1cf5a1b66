"""pos-loyalty: a loyalty companion that runs beside a shop's till."""

__version__ = "0.1.0"
