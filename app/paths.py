"""The one resource-path helper, valid from source and from the frozen (PyInstaller) exe."""

from __future__ import annotations

import sys
from pathlib import Path


def project_root() -> Path:
    """Folder holding `resources/`: the bundle dir when frozen, the repository root otherwise."""
    frozen_dir = getattr(sys, "_MEIPASS", None)
    if frozen_dir:
        return Path(frozen_dir)
    return Path(__file__).resolve().parent.parent


def resource_path(*parts: str) -> Path:
    """Path of a bundled resource, e.g. resource_path("fonts", "wqy-microhei.ttc")."""
    return project_root().joinpath("resources", *parts)
