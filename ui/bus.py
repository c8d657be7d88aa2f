"""AppBus: the signals views use to ask the main window to navigate or to say data changed.

One instance is made by the main window and passed to every view (no global locator). Views emit
`data_changed` after a successful save so the others refresh; they never reach into each other.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class AppBus(QObject):
    data_changed = Signal()
    open_enterprise = Signal(str)  # enterprise id
    open_visit = Signal(str)  # visit id
    open_problem = Signal(str)  # problem id
    new_visit = Signal(str)  # pre-selected enterprise id, or "" for none
    # Drill-down lists: (title shown above the list, filter object of app.enterprises/problems/visits)
    show_enterprises = Signal(str, object)
    show_problems = Signal(str, object)
    show_visits = Signal(str, object)
    status_message = Signal(str)
