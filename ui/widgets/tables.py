"""Table helpers for the list screens: a read-only row-selecting table, swapping its model, selecting a record."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget


def make_table(model=None, parent: QWidget | None = None) -> QTableView:
    """A read-only, row-selecting table sorted by header clicks (model.sort), showing `model` if given."""
    table = QTableView(parent)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(26)
    header = table.horizontalHeader()
    header.setStretchLastSection(True)
    header.setHighlightSections(False)
    header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # natural order until a header is clicked
    table.setSortingEnabled(True)
    header.sortIndicatorChanged.connect(lambda section, _order: _keep_sort_indicator(table, section))
    if model is not None:
        set_table_model(table, model)
    return table


def set_table_model(table: QTableView, model) -> None:
    """Show `model` (its Column widths, natural order) and delete the previous model and selection model."""
    old, old_selection = table.model(), table.selectionModel()
    table.setModel(model)
    header = table.horizontalHeader()
    header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    for i, column in enumerate(model.columns):
        if column.width:
            header.resizeSection(i, column.width)
    for obj in (old_selection, old):
        if obj is not None and obj is not model:
            obj.deleteLater()


def _keep_sort_indicator(table: QTableView, section: int) -> None:
    """A click on a column that cannot be sorted leaves the indicator where the list is really sorted."""
    model = table.model()
    columns = getattr(model, "columns", ())
    if 0 <= section < len(columns) and not columns[section].sortable:
        header = table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(model.sort_column(), model.sort_order())
        header.blockSignals(False)
        header.viewport().update()


def select_record(table: QTableView, record_id: str | None, *, scroll: bool = True) -> bool:
    """Make the row of `record_id` current and selected (a LazyTableModel knows its rows); False if not listed."""
    model = table.model()
    row = model.row_of(record_id) if record_id else None
    if row is None:
        return False
    index = model.index(row, 0)
    table.setCurrentIndex(index)
    table.selectRow(row)
    if scroll:
        table.scrollTo(index)
    return True
