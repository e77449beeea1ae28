"""CronJob schedules checked the way kube-apiserver checks them (robfig/cron v3 ParseStandard).

`schedule_error("*/5 * * * *")` is None; `schedule_error("bad")` is the parser's own message,
`expected exactly 5 fields, found 1: [bad]`, which apiserver puts after `spec.schedule: Invalid
value: "bad": `. A schedule the Go parser accepts but croniter cannot run is reported too, so the
local CronJob controller (which uses croniter) never holds a schedule it cannot follow.

Read by: api.rules_batch. Reads: croniter.
"""

from __future__ import annotations

from croniter import croniter

# (min, max, names) per field: minute, hour, day of month, month, day of week.
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), start=1)}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_BOUNDS = ((0, 59, None), (0, 23, None), (1, 31, None), (1, 12, _MONTHS), (0, 6, _DAYS))
_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


class _ParseError(ValueError):
    pass


def _atoi(text: str) -> int:
    # strconv.Atoi: an optional sign and ASCII digits only.
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        raise _ParseError(f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax')
    return int(text)


def _must_parse_int(text: str) -> int:
    number = _atoi(text)
    if number < 0:
        raise _ParseError(f"negative number ({number}) not allowed: {text}")
    return number


def _int_or_name(text: str, names: dict[str, int] | None) -> int:
    if names is not None and text.lower() in names:
        return names[text.lower()]
    return _must_parse_int(text)


def _range(expr: str, low: int, high: int, names: dict[str, int] | None) -> None:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start = _int_or_name(low_and_high[0], names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], names)
        else:
            raise _ParseError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _must_parse_int(range_and_step[1])
        if single:
            end = high  # "N/step" means "N-max/step"
    else:
        raise _ParseError(f"too many slashes: {expr}")
    if start < low:
        raise _ParseError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise _ParseError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise _ParseError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise _ParseError(f"step of range should be a positive number: {expr}")


def _go_fields(fields: list[str]) -> str:
    return "[" + " ".join(fields) + "]"


def _parse(spec: str) -> str:
    """The 5-field spec the Go parser would run, or _ParseError with its message."""
    if not spec:
        raise _ParseError("empty spec string")
    if spec.startswith(("TZ=", "CRON_TZ=")):
        cut = spec.find(" ")
        spec = spec[cut:].strip() if cut >= 0 else ""
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return _DESCRIPTORS[spec]
        if spec.startswith("@every "):
            return ""
        raise _ParseError(f"unrecognized descriptor: {spec}")
    fields = spec.split()
    if len(fields) != 5:
        raise _ParseError(f"expected exactly 5 fields, found {len(fields)}: {_go_fields(fields)}")
    for text, (low, high, names) in zip(fields, _BOUNDS, strict=True):
        for part in (p for p in text.split(",") if p):
            _range(part, low, high, names)
    return " ".join(f.replace("?", "*") for f in fields)


def schedule_error(schedule: str) -> str | None:
    """robfig/cron ParseStandard's error for `schedule`, or None when it parses."""
    try:
        standard = _parse(schedule)
    except _ParseError as e:
        return str(e)
    if standard and not croniter.is_valid(standard):
        return f"croniter cannot run this schedule: {standard}"
    return None
