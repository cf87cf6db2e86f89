"""Vocabulary of guild: pure values, enums and errors (no framework, no database, no renderer)."""
