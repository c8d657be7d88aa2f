"""助企工作台 domain and services — pure Python, never imports Qt."""

APP_NAME = "助企工作台"
APP_NAME_EN = "Zhuqi Desk"
APP_ID = "zhuqi-desk"
__version__ = "0.1.0"

# The headless subcommands (app/cli.py); main.py checks argv against them without importing the CLI.
SUBCOMMANDS: frozenset[str] = frozenset({"init", "demo", "stats", "print", "roster", "sync", "check"})
