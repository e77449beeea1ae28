"""Formatting simulated epoch seconds the way container tools print time (always UTC, C locale).

Locale-independent on purpose: `time.strftime` would follow the host's LC_TIME.

Read by: sysutils (date), fileutils (ls -l), programs (log timestamps), filesystem. Reads: nothing.
"""

from __future__ import annotations

import time

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
DAYS_FULL = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTHS_FULL = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
DATE_DEFAULT = "%a %b %e %H:%M:%S %Z %Y"


_MEMO: dict[tuple[str, float], str] = {}  # thousands of containers start in the same simulated second


def strftime(fmt: str, epoch: float) -> str:
    """A C-locale, UTC strftime with the conversions `date +FORMAT` users reach for (and %N)."""
    # Without %N the text depends only on the whole second (gmtime floors, as int() does from 0 up).
    key = (fmt, epoch if epoch < 0 or "%N" in fmt else int(epoch))
    text = _MEMO.get(key)
    if text is None:
        if len(_MEMO) >= 4096:
            _MEMO.clear()
        text = _MEMO[key] = _format(fmt, epoch)
    return text


def _format(fmt: str, epoch: float) -> str:
    t = time.gmtime(epoch)
    frac = epoch - int(epoch)
    hour12 = t.tm_hour % 12 or 12
    table = {
        "Y": f"{t.tm_year}",
        "y": f"{t.tm_year % 100:02d}",
        "m": f"{t.tm_mon:02d}",
        "d": f"{t.tm_mday:02d}",
        "e": f"{t.tm_mday:2d}",
        "H": f"{t.tm_hour:02d}",
        "I": f"{hour12:02d}",
        "M": f"{t.tm_min:02d}",
        "S": f"{t.tm_sec:02d}",
        "j": f"{t.tm_yday:03d}",
        "a": DAYS[t.tm_wday],
        "A": DAYS_FULL[t.tm_wday],
        "b": MONTHS[t.tm_mon - 1],
        "h": MONTHS[t.tm_mon - 1],
        "B": MONTHS_FULL[t.tm_mon - 1],
        "p": "AM" if t.tm_hour < 12 else "PM",
        "Z": "UTC",
        "z": "+0000",
        "s": f"{int(epoch)}",
        "N": f"{int(frac * 1e9):09d}",
        "u": f"{t.tm_wday + 1}",
        "w": f"{(t.tm_wday + 1) % 7}",
        "n": "\n",
        "t": "\t",
        "%": "%",
        "T": f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}",
        "D": f"{t.tm_mon:02d}/{t.tm_mday:02d}/{t.tm_year % 100:02d}",
        "F": f"{t.tm_year}-{t.tm_mon:02d}-{t.tm_mday:02d}",
        "R": f"{t.tm_hour:02d}:{t.tm_min:02d}",
        "k": f"{t.tm_hour:2d}",
        "l": f"{hour12:2d}",
    }
    out: list[str] = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%" or i + 1 >= len(fmt):
            out.append(ch)
            i += 1
            continue
        k = fmt[i + 1]
        i += 2
        if k == "c":
            out.append(strftime("%a %b %e %H:%M:%S %Y", epoch))
        elif k in table:
            out.append(table[k])
        else:
            out.append("%" + k)
    return "".join(out)


def rfc3339(epoch: float, digits: int = 0) -> str:
    base = strftime("%Y-%m-%dT%H:%M:%S", epoch)
    if digits:
        base += "." + f"{epoch - int(epoch):.{digits}f}"[2:]
    return base
