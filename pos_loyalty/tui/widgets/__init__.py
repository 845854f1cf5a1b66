"""Widgets grouped by feature; none of them touches the ledger (screens hand them engine values)."""
