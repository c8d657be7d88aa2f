"""Typed errors raised by services, each carrying a Chinese message a user can act on.

The UI turns any AppError into a dialog or inline message (ui/errors.py); the CLI prints
`message` on stderr and exits 3 (input rejected). Never match on message text: catch the type.
"""

from __future__ import annotations


class AppError(Exception):
    """Base of every expected, user-facing failure. `message` is shown to the user as is."""

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None, file: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.row = row
        self.file = file

    def __str__(self) -> str:
        return self.message


class ValidationError(AppError):
    """A field's value is not acceptable; `field` names the form field (English key)."""


class DuplicateError(ValidationError):
    """A natural key (e.g. USCC) already belongs to another record."""

    def __init__(self, message: str, *, field: str | None = None, existing_id: str | None = None):
        super().__init__(message, field=field)
        self.existing_id = existing_id


class NotFoundError(AppError):
    """A record the caller named does not exist (or is deleted)."""


class TransitionError(AppError):
    """A problem workflow step is not allowed from the problem's current status."""

    def __init__(self, message: str, *, allowed: tuple[str, ...] = ()):
        super().__init__(message)
        self.allowed = allowed


class StoreError(AppError):
    """The database cannot be opened or used (newer version, damaged, read-only...)."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer version of the app."""


class DatabaseDamagedError(StoreError):
    """The database file is damaged (quick_check failed or SQLite cannot read it): the recovery path takes over."""

    def __init__(self, message: str, *, path: str):
        super().__init__(message, file=path)
        self.path = path


class PrintCancelled(AppError):
    """The user cancelled a long print job; nothing was written."""


class CalendarRangeWarning(UserWarning):
    """A deadline falls past the last year the working-day calendar covers."""


class SyncCancelled(AppError):
    """The operator cancelled an export or import; no package file was left behind and nothing was recorded."""
