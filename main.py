"""助企工作台 entry point: GUI by default, headless subcommands (init, demo, stats, check…) otherwise.

Composition root: arguments → data folder → logging → services → GUI or CLI. Nothing else builds
services, so no module reaches for a global.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from app.cli import SUBCOMMANDS
    from app.cli import main as cli_main

    if any(a in SUBCOMMANDS for a in argv) or any(a in ("-h", "--help", "--version") for a in argv):
        return cli_main(argv)
    parser = argparse.ArgumentParser(prog="main.py", description="助企工作台（图形界面）")
    parser.add_argument("--db", type=Path, help="数据库文件（默认在用户数据文件夹）")
    args = parser.parse_args(argv)

    from app.datadir import data_dir, default_db_path
    from app.logsetup import configure_logging

    db_path = args.db or default_db_path()
    log_dir = configure_logging(data_dir() / "logs")
    from ui.app import run_gui

    return run_gui(db_path.resolve(), log_dir.parent if log_dir else None)


if __name__ == "__main__":
    sys.exit(main())
