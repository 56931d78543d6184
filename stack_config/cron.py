"""Cron schedules as k3s reads them (robfig/cron's standard parser), checked offline.

k3s parses ``etcd-snapshot-schedule-cron`` with github.com/robfig/cron/v3 ``ParseStandard``: five
fields (minute hour day-of-month month day-of-week), each ``*``, ``?`` (day fields), a number, a
range ``a-b``, a step ``*/n`` or ``a-b/n``, or a comma list of those; months and weekdays also by
three-letter name; or a descriptor (``@daily``, ``@every 6h``). A schedule k3s cannot parse makes
the server log an error and take no scheduled snapshots, so it is refused here.
Ref: https://github.com/robfig/cron/blob/master/parser.go (ParseStandard, descriptors, bounds)
"""

from __future__ import annotations

import re

_DESCRIPTORS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight",
                          "@hourly"})
_EVERY = re.compile(r"^@every (\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (name, low, high, names starting at `low`)
_FIELDS = (("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day of month", 1, 31, ()),
           ("month", 1, 12, _MONTHS), ("day of week", 0, 6, _DAYS))


class CronError(ValueError):
    pass


def check_schedule(text: str) -> str:
    """Return ``text`` if robfig/cron's standard parser accepts it; raise :class:`CronError`."""
    spec = text.strip()
    if spec != text or not spec:
        raise CronError("has leading/trailing blanks or is empty")
    if spec.startswith("@"):
        if spec in _DESCRIPTORS or _EVERY.match(spec):
            return text
        raise CronError(f"'{spec}' is not a cron descriptor (@hourly, @daily, @every 6h, …)")
    fields = spec.split()
    if len(fields) != len(_FIELDS):
        raise CronError(f"has {len(fields)} field(s); a schedule has 5: minute hour "
                        "day-of-month month day-of-week")
    for value, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        for part in value.split(","):
            _check_part(part, name, low, high, names)
    return text


def _check_part(part: str, name: str, low: int, high: int, names: tuple[str, ...]) -> None:
    span, _, step = part.partition("/")
    if step and (not step.isdigit() or int(step) == 0):
        raise CronError(f"{name} step '/{step}' must be a positive number")
    if span in ("*", "?") and (span == "*" or name.startswith("day")):
        return
    first, dash, last = span.partition("-")
    start = _number(first, name, low, high, names)
    end = _number(last, name, low, high, names) if dash else start
    if end < start:
        raise CronError(f"{name} range '{span}' runs backwards")


def _number(token: str, name: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if token.lower() in names:
        return low + names.index(token.lower())
    if not token.isdigit() or not low <= int(token) <= high:
        raise CronError(f"{name} '{token}' is outside {low}-{high}")
    return int(token)
