"""When a CronJob should run: its schedule in its time zone, and the start times it missed.

`Schedule` follows robfig/cron as kube-controller-manager uses it: the standard five fields with
month and weekday names, the `@hourly`/`@daily`/… descriptors (via the API layer's parser, which
also validated the schedule) and `@every <duration>`; `next(t)` is the first activation strictly
after `t`, computed in the CronJob's `timeZone` (UTC when unset). `most_recent` is the controller's
mostRecentScheduleTime: the latest activation due since the last schedule (or since creation, or
since `startingDeadlineSeconds` ago), and how many were missed — more than 100 is "too many".
`next_delay` is how long to sleep until the next activation, plus the 100 ms upstream adds.

Read by: controllers.cronjob. Reads: api.cron_schedule, croniter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

# The API layer's robfig-compatible parser: it gives the five-field form croniter runs.
from kubelab.api.cron_schedule import _parse as standard_spec
from kubelab.api.cron_schedule import schedule_error

NEXT_SCHEDULE_DELTA = 0.1  # seconds past the activation at which the controller wakes up
TOO_MANY_MISSED = 100
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


class ScheduleError(ValueError):
    pass


def time_zone(name: str | None) -> tzinfo:
    """The location for `spec.timeZone`; Go's `unknown time zone X` when it does not exist."""
    if not name:
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name}") from None


@dataclass(frozen=True)
class Schedule:
    spec: str  # the five fields, or "" for @every
    every: float  # seconds between activations for @every, else 0
    zone: tzinfo

    @classmethod
    def parse(cls, text: str, zone: tzinfo) -> Schedule:
        error = schedule_error(text)
        if error:
            raise ScheduleError(error)
        spec = standard_spec(text)
        if spec:
            return cls(spec, 0.0, zone)
        return cls("", _every(text), zone)

    def next(self, after: float) -> float:
        if self.every:
            return float(int(after) + int(self.every))  # ConstantDelaySchedule: whole seconds
        start = datetime.fromtimestamp(int(after), tz=self.zone)
        return croniter(self.spec, start).get_next(datetime).timestamp()

    def format(self, when: float) -> str:
        """RFC 3339 in the schedule's zone, as the scheduled-timestamp annotation shows it."""
        local = datetime.fromtimestamp(when, tz=self.zone)
        text = local.isoformat(timespec="seconds")
        return text.replace("+00:00", "Z") if self.zone is timezone.utc else text


def _every(text: str) -> float:
    body = text.removeprefix("@every").strip()
    parts = _DURATION.findall(body)
    if not parts or "".join(n + u for n, u in parts) != body:
        raise ScheduleError(f"failed to parse duration {body}")
    return max(1.0, float(int(sum(float(n) * _UNITS[u] for n, u in parts))))


@dataclass(frozen=True)
class Missed:
    earliest: float
    most_recent: float | None
    count: int


def most_recent(schedule: Schedule, created: float, last_scheduled: float | None, deadline: int | None,
                now: float, *, with_deadline: bool = True) -> Missed:
    """mostRecentScheduleTime: the latest activation in (earliest, now] and how many there were."""
    earliest = last_scheduled if last_scheduled is not None else created
    if with_deadline and deadline is not None:
        earliest = max(earliest, now - deadline)
    t1 = schedule.next(earliest)
    if now < t1:
        return Missed(earliest, None, 0)
    t2 = schedule.next(t1)
    if now < t2:
        return Missed(earliest, t1, 0)
    interval = round(t2 - t1)
    if interval < 1:
        raise ScheduleError("time difference between two schedules is less than 1 second")
    count = int(now - t1) // interval + 1
    # Jump close to now, then let the schedule find the real times (irregular schedules included).
    cursor = schedule.next(t1 + (count - 2) * interval)
    found = None
    while cursor <= now:
        found = cursor
        cursor = schedule.next(cursor)
    return Missed(earliest, found, count)


def next_delay(schedule: Schedule, created: float, last_scheduled: float | None, now: float) -> float:
    """nextScheduleTimeDuration: seconds from `now` until just after the next activation."""
    missed = most_recent(schedule, created, last_scheduled, None, now, with_deadline=False)
    base = missed.most_recent if missed.most_recent is not None else missed.earliest
    return schedule.next(base) + NEXT_SCHEDULE_DELTA - now
