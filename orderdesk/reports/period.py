"""The period a report covers: days in the merchant's time zone, grouped by day, week or month."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

DAY = "day"
WEEK = "week"
MONTH = "month"
GRAINS = {DAY: "Day", WEEK: "Week", MONTH: "Month"}

# More buckets than this would not fit a chart a person can read (a year by day is 366).
MAX_DAYS = 731


@dataclass(frozen=True)
class ReportPeriod:
    """From `starts_on` to `ends_on` (both included, in `zone`), by `grain`, for one store or all."""

    starts_on: datetime.date
    ends_on: datetime.date
    zone: zoneinfo.ZoneInfo
    grain: str = DAY
    store_id: int | None = None

    @property
    def starts_at(self) -> datetime.datetime:
        """The first instant of the first day, in the merchant's zone (an aware datetime)."""
        return start_of_day(self.starts_on, self.zone)

    @property
    def ends_before(self) -> datetime.datetime:
        """The first instant after the last day."""
        return start_of_day(self.ends_on + datetime.timedelta(days=1), self.zone)

    def bucket_of(self, day: datetime.date) -> datetime.date:
        """The first day of the day's bucket: itself, its week's Monday, or its month's first."""
        if self.grain == WEEK:
            return day - datetime.timedelta(days=day.weekday())
        if self.grain == MONTH:
            return day.replace(day=1)
        return day

    def buckets(self) -> list[datetime.date]:
        """Every bucket of the period, in order, empty ones included."""
        found, day = [], self.starts_on
        while day <= self.ends_on:
            bucket = self.bucket_of(day)
            if not found or found[-1] != bucket:
                found.append(bucket)
            day += datetime.timedelta(days=1)
        return found

    def label(self, bucket: datetime.date) -> str:
        if self.grain == MONTH:
            return f"{bucket:%b %Y}"
        if self.grain == WEEK:
            return f"Week of {bucket:%b %-d}"
        return f"{bucket:%b %-d}"


def start_of_day(day: datetime.date, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """Midnight of `day` in `zone` (where a zone skips midnight, the first instant it has)."""
    naive = datetime.datetime.combine(day, datetime.time())
    aware = naive.replace(tzinfo=zone)
    # A gap at midnight (a DST jump): the wall time does not exist; fold back to the instant after.
    round_trip = aware.astimezone(datetime.UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != naive:
        aware = round_trip
    return aware


def local_day(moment: datetime.datetime, zone: zoneinfo.ZoneInfo) -> datetime.date:
    return moment.astimezone(zone).date()
