"""Sync between installations (DESIGN §5): installation keys, signed and encrypted *.zqpkg packages."""
