"""Calendar arithmetic the domain uses (timescales in months, retention periods)."""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later (earlier if negative), or the month's last
    day where it is shorter: 31 January + 1 month is 28 or 29 February."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )
