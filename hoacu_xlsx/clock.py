"""Time in Vietnam: every date, deadline and lateness is reckoned in Asia/Ho_Chi_Minh.

A unit's email may carry any zone (``Date: ... -0800``), the PC may be set to UTC, and
the officer types times without a zone: all of them mean, or are shown as, Vietnam time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")

# an email Date this long before the file was first seen is implausible (a wrong clock)
EMAIL_DATE_SLACK = timedelta(days=2)


def now_vn() -> datetime:
    """The real clock, in Vietnam time."""
    return datetime.now(VN)


def to_vn(value: datetime) -> datetime:
    """Aware -> Vietnam time; naive -> taken as Vietnam time."""
    return value.replace(tzinfo=VN) if value.tzinfo is None else value.astimezone(VN)


def from_timestamp(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, VN)


def end_of_day(day: date) -> datetime:
    """The last instant of ``day`` in Vietnam: received up to 23:59:59 on the deadline day is on time."""
    return datetime.combine(day + timedelta(days=1), time(0), VN) - timedelta(microseconds=1)


def is_late(received: datetime, deadline: date) -> bool:
    return to_vn(received) > end_of_day(deadline)


def parse_when(text: str) -> datetime | None:
    """Officer-typed or stored times: ISO (with or without zone), or dd/mm/yyyy [hh:mm[:ss]] (Vietnam time)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        dt = None
        for fmt in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y %H:%M", "%d-%m-%Y"):
            try:
                dt = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    return to_vn(dt) if dt is not None else None
