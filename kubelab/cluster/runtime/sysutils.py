"""System utilities: sleep date env printenv hostname whoami id uname ps nproc which timeout.

Everything comes from the process context: the simulated clock (`date`), the pod's hostname,
the container's process table (`ps`), the securityContext user (`id`). `ps` prints busybox's
short table or procps' `ps aux` columns depending on the image.

Read by: commands (registered utilities). Reads: session, clock, process.
"""

from __future__ import annotations

import math
import re
from collections.abc import Generator

from kubelab.cluster.runtime.clock import DATE_DEFAULT, strftime
from kubelab.cluster.runtime.commands import NotRunnable, locate, utility
from kubelab.cluster.runtime.families import PACKAGE_MANAGERS
from kubelab.cluster.runtime.process import ProcessInfo, Sleep
from kubelab.cluster.runtime.session import Call

KERNEL_RELEASE = "6.8.0-45-generic"
KERNEL_VERSION = "#45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024"
CPUS = 2


def parse_duration(text: str) -> float | None:
    if text in ("infinity", "inf"):
        return math.inf
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", text)
    if not m:
        return None
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


@utility("sleep")
def sleep(c: Call) -> int | Generator[Sleep, None, int]:
    if not c.args:
        return c.fail("missing operand" if not c.busybox else "usage: sleep [N]...")
    total = 0.0
    for arg in c.args:
        seconds = parse_duration(arg)
        if seconds is None:
            return c.fail(f"invalid number '{arg}'" if c.busybox else f"invalid time interval '{arg}'")
        total += seconds
    return _sleep(total)


def _sleep(seconds: float) -> Generator[Sleep, None, int]:
    yield Sleep(seconds)
    return 0


@utility("date")
def date(c: Call) -> int:
    now = c.session.now()
    fmt = DATE_DEFAULT
    args = list(c.args)
    while args:
        a = args.pop(0)
        if a.startswith("+"):
            fmt = a[1:]
        elif a in ("-u", "--utc"):
            continue
        elif a in ("-R", "--rfc-2822"):
            fmt = "%a, %d %b %Y %H:%M:%S +0000"
        elif a.startswith("-I") or a.startswith("--iso-8601"):
            fmt = "%Y-%m-%dT%H:%M:%S+00:00" if "seconds" in a or a == "-Is" else "%Y-%m-%d"
        elif a.startswith("--rfc-3339"):
            fmt = "%Y-%m-%d %H:%M:%S+00:00" if "seconds" in a else "%Y-%m-%d"
        elif a in ("-d", "--date") and args:
            spec = args.pop(0)
            if spec.startswith("@") and re.fullmatch(r"@-?\d+(\.\d+)?", spec):
                now = float(spec[1:])
            elif spec not in ("now", "today"):
                return c.fail(f"invalid date '{spec}'")
        elif a in ("-s", "--set"):
            return c.fail(
                "can't set date: Operation not permitted" if c.busybox else "cannot set date: Operation not permitted"
            )
    c.out(strftime(fmt, now) + "\n")
    return 0


@utility("env")
def env(c: Call) -> int | Generator[Sleep, None, int]:
    args = list(c.args)
    environ = dict(c.env)
    while args and (args[0] in ("-i", "-") or "=" in args[0] or args[0] in ("-u",)):
        a = args.pop(0)
        if a in ("-i", "-"):
            environ = {}
        elif a == "-u" and args:
            environ.pop(args.pop(0), None)
        else:
            k, _, v = a.partition("=")
            environ[k] = v
    if not args:
        c.out("".join(f"{k}={v}\n" for k, v in environ.items()))
        return 0
    return c.sh.exec_argv(args, c.io, environ)


@utility("printenv")
def printenv(c: Call) -> int:
    if not c.args:
        c.out("".join(f"{k}={v}\n" for k, v in c.env.items()))
        return 0
    status = 0
    for name in c.args:
        if name in c.env:
            c.out(c.env[name] + "\n")
        else:
            status = 1
    return status


@utility("hostname")
def hostname(c: Call) -> int:
    if c.args and c.args[0] in ("-i", "-I"):
        ip = c.session.ctx.pod_ip or _hosts_ip(c)
        c.out(ip + ("\n" if c.args[0] == "-i" else " \n"))
        return 0
    c.out(c.session.ctx.hostname + "\n")
    return 0


def _hosts_ip(c: Call) -> str:
    try:
        for line in c.fs.read_text("/etc/hosts").splitlines():
            parts = line.split()
            if len(parts) > 1 and c.session.ctx.hostname in parts[1:]:
                return parts[0]
    except OSError:
        pass
    return "127.0.0.1"


def user_names(c: Call) -> tuple[str | None, str | None]:
    cred = c.session.cred
    user = group = None
    for path, wanted in (("/etc/passwd", cred.uid), ("/etc/group", cred.gids[0] if cred.gids else 0)):
        try:
            for line in c.fs.read_text(path).splitlines():
                parts = line.split(":")
                if len(parts) > 2 and parts[2] == str(wanted):
                    if path == "/etc/passwd":
                        user = parts[0]
                    else:
                        group = parts[0]
                    break
        except OSError:
            pass
    return user, group


@utility("whoami")
def whoami(c: Call) -> int:
    user, _ = user_names(c)
    if user is None:
        uid = c.session.cred.uid
        return c.fail(f"unknown uid {uid}" if c.busybox else f"cannot find name for user ID {uid}")
    c.out(user + "\n")
    return 0


@utility("id")
def id_(c: Call) -> int:
    cred = c.session.cred
    user, group = user_names(c)
    gid = cred.gids[0] if cred.gids else 0
    opts = "".join(a.lstrip("-") for a in c.args if a.startswith("-"))
    if "u" in opts:
        c.out((user if "n" in opts and user else str(cred.uid)) + "\n")
        return 0
    if "g" in opts:
        c.out((group if "n" in opts and group else str(gid)) + "\n")
        return 0

    def named(n: int, name: str | None) -> str:
        return f"{n}({name})" if name else str(n)

    gids = list(dict.fromkeys(cred.gids or (0,)))
    if user:  # memberships listed in /etc/group, like alpine's root in wheel, adm, disk…
        gids += [g for g, members in _memberships(c) if user in members and g not in gids]
    groups = [named(g, group if g == gid else _group_name(c, g)) for g in gids]
    c.out(f"uid={named(cred.uid, user)} gid={named(gid, group)} groups={','.join(groups)}\n")
    return 0


def _memberships(c: Call) -> list[tuple[int, list[str]]]:
    out = []
    try:
        for line in c.fs.read_text("/etc/group").splitlines():
            parts = line.split(":")
            if len(parts) > 3 and parts[2].isdigit():
                out.append((int(parts[2]), [m for m in parts[3].split(",") if m]))
    except OSError:
        pass
    return out


def _group_name(c: Call, gid: int) -> str | None:
    try:
        for line in c.fs.read_text("/etc/group").splitlines():
            parts = line.split(":")
            if len(parts) > 2 and parts[2] == str(gid):
                return parts[0]
    except OSError:
        pass
    return None


@utility("uname")
def uname(c: Call) -> int:
    flags = "".join(a.lstrip("-") for a in c.args) or "s"
    fields = {
        "s": "Linux",
        "n": c.session.ctx.hostname,
        "r": KERNEL_RELEASE,
        "v": KERNEL_VERSION,
        "m": "x86_64",
        "o": "GNU/Linux",
    }
    if "a" in flags:
        order = "snrvmo"
    else:
        order = "".join(k for k in "snrvmo" if k in flags)
    c.out(" ".join(fields[k] for k in order) + "\n")
    return 0


@utility("nproc")
def nproc(c: Call) -> int:
    c.out(f"{CPUS}\n")
    return 0


@utility("which")
def which(c: Call) -> int:
    status = 0
    for name in c.args:
        try:
            path, _ = locate(c.fs, name, c.env, c.sh.cwd)
            c.out(path + "\n")
        except NotRunnable:
            status = 1
    return status


def _cpu_time(row: ProcessInfo) -> str:
    minutes, seconds = divmod(int(row.cpu_seconds), 60)
    return f"{minutes}:{seconds:02d}"


def process_rows(c: Call) -> list[ProcessInfo]:
    rows = {r.pid: r for r in c.session.procs.list()}
    hook = c.session.ctx.processes
    if hook is not None:
        for r in hook():
            rows.setdefault(r.pid, r)
    return [rows[pid] for pid in sorted(rows)]


@utility("ps")
def ps(c: Call) -> int:
    rows = process_rows(c)
    if c.busybox:
        c.out("PID   USER     TIME  COMMAND\n")
        for r in rows:
            c.out(f"{r.pid:5d} {r.user[:8]:<8} {_cpu_time(r):>5} {r.command}\n")
        return 0
    args = "".join(c.args)
    now = c.session.now()
    if "aux" in args or args in ("-aux", "aux"):
        c.out("USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n")
        total_kb = 8 * 1024 * 1024
        for r in rows:
            start = strftime("%H:%M", r.started) if now - r.started < 86400 else strftime("%b%d", r.started)
            cpu = 0.0 if now <= r.started else min(99.9, 100 * r.cpu_seconds / (now - r.started))
            mem = 100 * r.rss_kb / total_kb
            c.out(
                f"{r.user[:8]:<8} {r.pid:>7} {cpu:4.1f} {mem:4.1f} {r.vsz_kb:>6} {r.rss_kb:>5} {r.tty:<8} "
                f"{r.stat:<4} {start:>5} {_cpu_time(r):>6} {r.command}\n"
            )
        return 0
    if "ef" in args or "-e" in args:
        c.out("UID          PID    PPID  C STIME TTY          TIME CMD\n")
        for r in rows:
            c.out(
                f"{r.user[:8]:<8} {r.pid:>7} {0 if r.pid == 1 else 1:>7}  0 {strftime('%H:%M', r.started):>5} "
                f"{r.tty:<8} {'00:00:00':>8} {r.command}\n"
            )
        return 0
    c.out("    PID TTY          TIME CMD\n")
    for r in rows:
        c.out(f"{r.pid:>7} {r.tty:<8} 00:00:00 {r.command.split()[0].rsplit('/', 1)[-1]}\n")
    return 0


@utility("timeout")
def timeout(c: Call) -> int | Generator[Sleep, None, int]:
    args = [a for a in c.args if not a.startswith("-")]
    if len(args) < 2:
        return c.fail("missing operand" if not c.busybox else "usage: timeout [-s SIG] SECS PROG ARGS")
    limit = parse_duration(args[0])
    if limit is None:
        return c.fail(f"invalid time interval '{args[0]}'")
    return _timeout(c, limit, args[1:])


def _timeout(c: Call, limit: float, argv: list[str]) -> Generator[Sleep, None, int]:
    deadline = c.session.now() + limit
    gen = c.sh.exec_argv(argv, c.io, c.env)
    try:
        request = next(gen)
        while True:
            remaining = deadline - c.session.now()
            if request.seconds >= remaining:
                if remaining > 0:
                    yield Sleep(remaining)
                gen.close()
                return 143 if c.busybox else 124
            yield request
            request = gen.send(None)
    except StopIteration as stop:
        return stop.value


@utility(*PACKAGE_MANAGERS)
def package_manager(c: Call) -> int:
    """Installing packages needs the internet and a real root filesystem: say so, as a failure."""
    if not c.args or c.args[0] in ("--version", "-V", "--help"):
        c.out(f"{c.name} (simulated by kubelab)\n")
        return 0
    if c.session.cred.uid != 0:
        c.err(
            "ERROR: Unable to lock database: Permission denied\n"
            if c.name == "apk"
            else "E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\n"
        )
        return 99 if c.name == "apk" else 100
    c.err(
        f"kubelab: `{c.name}` cannot install packages in the simulated runtime; use an image that already has "
        "the tool (busybox has wget and nslookup, curlimages/curl has curl)\n"
    )
    return 1
