"""Time in one place: dates are Asia/Shanghai calendar days, stamps are UTC ISO-8601."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

# Fixed +08:00 (China has no DST), so no tz database is needed on the cadre's PC.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def today() -> date:
    return datetime.now(SHANGHAI).date()


def parse_date(value: str | date | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


def local_date_of(stamp: str) -> date:
    """Calendar day in Shanghai of a UTC stamp written by now_utc()."""
    dt = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return dt.astimezone(SHANGHAI).date()
