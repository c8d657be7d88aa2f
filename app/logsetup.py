"""Logging for the GUI and CLI: a rotating log file in the data folder (the crash handler points users there)."""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
from pathlib import Path

LOG_NAME = "zhuqi.log"
FATAL_LOG_NAME = "fatal.log"  # a hard crash (in Qt or SQLite, not Python) still leaves its stack here


def configure_logging(log_dir: Path | None, *, level: int = logging.INFO) -> Path | None:
    """Log to `log_dir/zhuqi.log` (1 MB × 5 files). Returns the log path, or None if the folder is unusable."""
    root = logging.getLogger()
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if log_dir is None:
        return None
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(log_dir / LOG_NAME, maxBytes=1_000_000, backupCount=5,
                                                       encoding="utf-8")
    except OSError:
        logging.basicConfig(level=level)
        logging.getLogger(__name__).warning("cannot write logs to %s", log_dir)
        return None
    handler.setFormatter(fmt)
    root.addHandler(handler)
    _enable_fault_log(log_dir / FATAL_LOG_NAME)
    return log_dir / LOG_NAME


def _enable_fault_log(path: Path) -> None:
    """faulthandler writes the Python stacks of a process killed by a fatal signal; the file stays open."""
    try:
        if path.exists() and path.stat().st_size > 1_000_000:
            path.replace(path.with_suffix(".log.1"))
        stream = open(path, "a", encoding="utf-8")  # noqa: SIM115 - must outlive this call
    except OSError:
        return
    faulthandler.enable(file=stream, all_threads=True)
