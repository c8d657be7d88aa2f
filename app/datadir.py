"""Where the database lives by default: the user's data folder (DESIGN §4), overridable for tests and scripts.

`ZHUQI_DATA_DIR` replaces the folder (tests, portable setups, the GUI's test runs); `--db` on the command
line replaces the whole path. Nothing here creates folders: open_store() does that when it opens a file.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "zhuqi-desk"
DB_FILENAME = "zhuqi.db"
ENV_VAR = "ZHUQI_DATA_DIR"


def data_dir() -> Path:
    """The folder holding the database and its backups (platformdirs user data dir unless overridden)."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    """The database file used when no --db is given."""
    return data_dir() / DB_FILENAME
