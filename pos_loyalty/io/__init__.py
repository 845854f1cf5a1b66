"""Importers and exporters: files in the formats of SPEC's CLI contract, to and from the ledger."""
