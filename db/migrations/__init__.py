"""Numbered schema migrations; each module has `VERSION` and `apply(conn)`."""
