"""Base table model for large lists: holds only the ordered ids and fetches the rows being painted.

Subclass per list (enterprises, problems, visits...) with its Columns and a source that runs the
SQL: `ids()` is one ORDER BY query, `rows()` fetches a page of rows by id. Sorting re-queries the
ids in SQL (no proxy model); rows come through a small LRU cache, so 200k ids cost a list of
strings plus the few hundred rows on screen (the design of Anki's browser table model).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

log = logging.getLogger(__name__)

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
"""Raw, comparable value of a cell (the row dict's value)."""
OBJECT_ROLE = Qt.ItemDataRole.UserRole + 2
"""Record id of the row, valid through any proxy or selection."""

PAGE_SIZE = 200
CACHE_ROWS = 2000
INDEX_AFTER_LOOKUPS = 8

AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    """One column: the row-dict key it shows (also the source's sort key), its header and layout hints."""

    key: str
    header: str
    align: Qt.AlignmentFlag | None = None
    width: int | None = None
    sortable: bool = True


class RowSource(Protocol):
    """Where a LazyTableModel gets its data; implemented over SQL queries by each list."""

    def ids(self, sort_key: str | None, descending: bool) -> list[str]:
        """Every id of the list in display order (sort_key None: the list's natural order)."""
        ...

    def rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Rows for these ids, each a dict keyed by column key; ids no longer present are left out."""
        ...


class LazyTableModel(QAbstractTableModel):
    """QAbstractTableModel over a RowSource; override the display/foreground/background/tooltip hooks."""

    def __init__(
        self,
        columns: Sequence[Column],
        source: RowSource,
        parent: Any = None,
        *,
        page_size: int = PAGE_SIZE,
        cache_rows: int = CACHE_ROWS,
        sort_column: int = -1,
        sort_order: Qt.SortOrder = Qt.SortOrder.AscendingOrder,
    ):
        """`sort_column`/`sort_order`: the order to start in — the one the view's header will show, so that turning
        its sorting on finds the list already sorted instead of querying it again."""
        super().__init__(parent)
        if not columns:
            raise ValueError("LazyTableModel needs at least one column")
        self.columns: tuple[Column, ...] = tuple(columns)
        self.headers: tuple[str, ...] = tuple(c.header for c in self.columns)
        self._source = source
        self._page_size = max(1, page_size)
        self._cache_rows = max(self._page_size, cache_rows)
        self._sort_column = sort_column
        self._sort_order = sort_order
        self._ids: list[str] = []
        self._index: dict[str, int] | None = None
        self._lookups = 0  # row_of calls since the ids changed
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._ids = self._query_ids()

    # --- Hooks for subclasses -------------------------------------------------------------------
    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        """Text of a cell; default str(value) with None shown as empty."""
        return "" if value is None else str(value)

    def foreground(self, row: dict[str, Any]) -> QColor | None:
        """Text colour of a whole row (e.g. red for overdue), or None for the default."""
        return None

    def background(self, row: dict[str, Any]) -> QColor | None:
        """Background colour of a whole row, or None for the default (alternating colours)."""
        return None

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        """Tooltip of a cell, or None."""
        return None

    # --- Public API ----------------------------------------------------------------------------
    @property
    def source(self) -> RowSource:
        return self._source

    def set_source(self, source: RowSource) -> None:
        """Show another source (e.g. a new filter), keeping the sort column and order."""
        self.beginResetModel()
        self._source = source
        self._reload()
        self.endResetModel()

    def refresh(self) -> None:
        """Re-query ids and drop cached rows (after data changed), keeping the sort."""
        self.beginResetModel()
        self._reload()
        self.endResetModel()

    def id_at(self, row: int) -> str | None:
        """Record id shown in `row`, or None when out of range."""
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, record_id: str) -> int | None:
        """Row that shows `record_id`, or None when it is not in the list."""
        if self._index is None:
            self._lookups += 1
            if self._lookups <= INDEX_AFTER_LOOKUPS:
                # A few lookups (the selection after a reload or sort) scan the list: ~5 ms over 126k ids, where
                # building the id → row dict costs ~90 ms. Many lookups build it once.
                try:
                    return self._ids.index(record_id)
                except ValueError:
                    return None
            self._index = {rid: i for i, rid in enumerate(self._ids)}
        return self._index.get(record_id)

    def row_dict(self, row: int) -> dict[str, Any]:
        """The fetched row dict for `row` ({} if out of range or the record vanished meanwhile)."""
        if not 0 <= row < len(self._ids):
            return {}
        return self._fetch(row)

    def ids(self) -> list[str]:
        """All ids in display order (a copy)."""
        return list(self._ids)

    def sort_column(self) -> int:
        """Column the list is sorted by, -1 for the source's natural order."""
        return self._sort_column

    def sort_order(self) -> Qt.SortOrder:
        return self._sort_order

    def cached_row_count(self) -> int:
        """Rows currently held in the cache (bounded by cache_rows)."""
        return len(self._cache)

    # --- Qt model interface -------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.headers[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and self.columns[section].align is not None:
                return self.columns[section].align
            return None
        return super().headerData(section, orientation, role)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if not (0 <= row < len(self._ids) and 0 <= col < len(self.columns)):
            return None
        column = self.columns[col]
        if role == OBJECT_ROLE:
            return self._ids[row]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.align
        if role == Qt.ItemDataRole.DisplayRole:
            record = self._fetch(row)
            return self.display(column.key, record.get(column.key), record)
        if role == SORT_ROLE:
            return self._fetch(row).get(column.key)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.foreground(self._fetch(row))
        if role == Qt.ItemDataRole.BackgroundRole:
            return self.background(self._fetch(row))
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(column.key, self._fetch(row))
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Re-query the ids in the order of `column` (SQL sorts); selection follows the records."""
        if column >= len(self.columns) or (column >= 0 and not self.columns[column].sortable):
            return
        if column == self._sort_column and order == self._sort_order:
            return
        self.layoutAboutToBeChanged.emit()
        old_persistent = self.persistentIndexList()
        old_ids = [self._ids[i.row()] if 0 <= i.row() < len(self._ids) else None for i in old_persistent]
        self._sort_column, self._sort_order = column, order
        self._ids = self._query_ids()
        self._index, self._lookups = None, 0
        rows = {rid: self.row_of(rid) for rid in dict.fromkeys(old_ids) if rid is not None}  # each record once
        new_persistent = []
        for old, record_id in zip(old_persistent, old_ids, strict=True):
            row = rows.get(record_id) if record_id is not None else None
            new_persistent.append(QModelIndex() if row is None else self.index(row, old.column()))
        self.changePersistentIndexList(old_persistent, new_persistent)
        self.layoutChanged.emit()

    # --- Internals -----------------------------------------------------------------------------
    def _query_ids(self) -> list[str]:
        if self._sort_column >= 0:
            key: str | None = self.columns[self._sort_column].key
            descending = self._sort_order == Qt.SortOrder.DescendingOrder
        else:
            key, descending = None, False
        return list(self._source.ids(key, descending))

    def _reload(self) -> None:
        self._ids = self._query_ids()
        self._index, self._lookups = None, 0
        self._cache.clear()

    def _fetch(self, row: int) -> dict[str, Any]:
        record_id = self._ids[row]
        record = self._cache.get(record_id)
        if record is not None:
            self._cache.move_to_end(record_id)
            return record
        # Miss: fetch a page around the row, mostly ahead of it (lists are scrolled downwards).
        start = max(0, min(row - self._page_size // 4, len(self._ids) - self._page_size))
        page = [rid for rid in self._ids[start : start + self._page_size] if rid not in self._cache]
        fetched = self._source.rows(page)
        for rid in page:
            self._cache[rid] = fetched.get(rid) or {}  # {}: the record vanished since ids() ran
        while len(self._cache) > self._cache_rows:
            self._cache.popitem(last=False)
        return self._cache[record_id]
