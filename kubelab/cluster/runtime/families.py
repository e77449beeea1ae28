"""Base-distribution data: what every image of a family (busybox, alpine, debian…) contains.

Which shell is /bin/sh, which utilities exist and where, /etc/passwd, /etc/group and
/etc/os-release. Debian's slim bases famously lack ps, wget, curl and nslookup; alpine lacks
bash and curl; scratch images have no shell at all — as on a real cluster.

Read by: rootfs (building a container's filesystem), runner (shell dialect). Reads: nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

PACKAGE_MANAGERS = {"apk": "alpine", "apt-get": "debian", "apt": "debian", "microdnf": "oraclelinux"}


@dataclass(frozen=True)
class Family:
    name: str
    dialect: str  # what /bin/sh is: ash | dash | bash ("" = no shell)
    flavor: str  # busybox | gnu: the utilities' messages and formats
    usrmerge: bool  # /bin, /sbin, /lib are symlinks into /usr
    missing: frozenset[str]
    passwd: str
    group: str
    os_release: str | None
    extra_files: tuple[tuple[str, str], ...] = ()


SHELLS = ("sh", "ash", "dash", "bash")

_BUSYBOX_PASSWD = """root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""
_BUSYBOX_GROUP = """root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nobody:x:65534:
"""
_ALPINE_PASSWD = """root:x:0:0:root:/root:/bin/sh
bin:x:1:1:bin:/bin:/sbin/nologin
daemon:x:2:2:daemon:/sbin:/sbin/nologin
lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin
sync:x:5:0:sync:/sbin:/bin/sync
shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown
halt:x:7:0:halt:/sbin:/sbin/halt
mail:x:8:12:mail:/var/mail:/sbin/nologin
news:x:9:13:news:/usr/lib/news:/sbin/nologin
uucp:x:10:14:uucp:/var/spool/uucppublic:/sbin/nologin
cron:x:16:16:cron:/var/spool/cron:/sbin/nologin
ftp:x:21:21::/var/lib/ftp:/sbin/nologin
sshd:x:22:22:sshd:/dev/null:/sbin/nologin
games:x:35:35:games:/usr/games:/sbin/nologin
ntp:x:123:123:NTP:/var/empty:/sbin/nologin
guest:x:405:100:guest:/dev/null:/sbin/nologin
nobody:x:65534:65534:nobody:/:/sbin/nologin
"""
_ALPINE_GROUP = """root:x:0:root
bin:x:1:root,bin,daemon
daemon:x:2:root,bin,daemon
sys:x:3:root,bin
adm:x:4:root,daemon
tty:x:5:
disk:x:6:root
lp:x:7:lp
kmem:x:9:
wheel:x:10:root
floppy:x:11:root
mail:x:12:mail
news:x:13:news
uucp:x:14:uucp
cron:x:16:cron
audio:x:18:
cdrom:x:19:
dialout:x:20:root
ftp:x:21:
sshd:x:22:
input:x:23:
tape:x:26:root
video:x:27:root
netdev:x:28:
kvm:x:34:kvm
games:x:35:
shadow:x:42:
www-data:x:82:
users:x:100:games
ntp:x:123:
utmp:x:406:
ping:x:999:
nogroup:x:65533:
nobody:x:65534:
"""
_DEBIAN_PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
games:x:5:60:games:/usr/games:/usr/sbin/nologin
man:x:6:12:man:/var/cache/man:/usr/sbin/nologin
lp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin
mail:x:8:8:mail:/var/mail:/usr/sbin/nologin
news:x:9:9:news:/var/spool/news:/usr/sbin/nologin
uucp:x:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin
proxy:x:13:13:proxy:/bin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
backup:x:34:34:backup:/var/backups:/usr/sbin/nologin
list:x:38:38:Mailing List Manager:/var/list:/usr/sbin/nologin
irc:x:39:39:ircd:/run/ircd:/usr/sbin/nologin
_apt:x:42:65534::/nonexistent:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
"""
_DEBIAN_GROUP = "".join(
    f"{n}:x:{g}:\n"
    for n, g in [
        ("root", 0),
        ("daemon", 1),
        ("bin", 2),
        ("sys", 3),
        ("adm", 4),
        ("tty", 5),
        ("disk", 6),
        ("lp", 7),
        ("mail", 8),
        ("news", 9),
        ("uucp", 10),
        ("man", 12),
        ("proxy", 13),
        ("kmem", 15),
        ("dialout", 20),
        ("fax", 21),
        ("voice", 22),
        ("cdrom", 24),
        ("floppy", 25),
        ("tape", 26),
        ("sudo", 27),
        ("audio", 29),
        ("dip", 30),
        ("www-data", 33),
        ("backup", 34),
        ("operator", 37),
        ("list", 38),
        ("irc", 39),
        ("src", 40),
        ("shadow", 42),
        ("utmp", 43),
        ("video", 44),
        ("sasl", 45),
        ("plugdev", 46),
        ("staff", 50),
        ("games", 60),
        ("users", 100),
        ("nogroup", 65534),
    ]
)
_OL_PASSWD = """root:x:0:0:root:/root:/bin/bash
bin:x:1:1:bin:/bin:/sbin/nologin
daemon:x:2:2:daemon:/sbin:/sbin/nologin
adm:x:3:4:adm:/var/adm:/sbin/nologin
lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin
sync:x:5:0:sync:/sbin:/bin/sync
shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown
halt:x:7:0:halt:/sbin:/sbin/halt
mail:x:8:12:mail:/var/spool/mail:/sbin/nologin
operator:x:11:0:operator:/root:/sbin/nologin
games:x:12:100:games:/usr/games:/sbin/nologin
ftp:x:14:50:FTP User:/var/ftp:/sbin/nologin
nobody:x:65534:65534:Kernel Overflow User:/:/sbin/nologin
"""
_OL_GROUP = "".join(
    f"{n}:x:{g}:\n"
    for n, g in [
        ("root", 0),
        ("bin", 1),
        ("daemon", 2),
        ("sys", 3),
        ("adm", 4),
        ("tty", 5),
        ("disk", 6),
        ("lp", 7),
        ("mem", 8),
        ("kmem", 9),
        ("wheel", 10),
        ("cdrom", 11),
        ("mail", 12),
        ("man", 15),
        ("dialout", 18),
        ("floppy", 19),
        ("games", 20),
        ("tape", 33),
        ("video", 39),
        ("ftp", 50),
        ("lock", 54),
        ("audio", 63),
        ("users", 100),
        ("nobody", 65534),
    ]
)

_DEBIAN_MISSING = frozenset({"ps", "wget", "curl", "nslookup", "nc", "netcat"})

FAMILIES = {
    "busybox": Family(
        "busybox", "ash", "busybox", False, frozenset({"curl", "bash", "dash"}), _BUSYBOX_PASSWD, _BUSYBOX_GROUP, None
    ),
    "alpine": Family(
        "alpine",
        "ash",
        "busybox",
        False,
        frozenset({"curl", "bash", "dash"}),
        _ALPINE_PASSWD,
        _ALPINE_GROUP,
        'NAME="Alpine Linux"\nID=alpine\nVERSION_ID={version}\n'
        'PRETTY_NAME="Alpine Linux v{short}"\nHOME_URL="https://alpinelinux.org/"\n'
        'BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"\n',
        (("/etc/alpine-release", "{version}\n"),),
    ),
    "debian": Family(
        "debian",
        "dash",
        "gnu",
        True,
        _DEBIAN_MISSING,
        _DEBIAN_PASSWD,
        _DEBIAN_GROUP,
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
        'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL="https://www.debian.org/"\n'
        'SUPPORT_URL="https://www.debian.org/support"\nBUG_REPORT_URL="https://bugs.debian.org/"\n',
        (("/etc/debian_version", "12.8\n"),),
    ),
    "ubuntu": Family(
        "ubuntu",
        "dash",
        "gnu",
        True,
        _DEBIAN_MISSING - {"ps"},
        _DEBIAN_PASSWD + "ubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/bash\n",
        _DEBIAN_GROUP + "ubuntu:x:1000:\n",
        'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n'
        'VERSION="24.04.1 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n'
        'HOME_URL="https://www.ubuntu.com/"\nSUPPORT_URL="https://help.ubuntu.com/"\n'
        'BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"\nUBUNTU_CODENAME=noble\nLOGO=ubuntu-logo\n',
    ),
    "oraclelinux": Family(
        "oraclelinux",
        "bash",
        "gnu",
        True,
        _DEBIAN_MISSING - {"curl"},
        _OL_PASSWD,
        _OL_GROUP,
        'NAME="Oracle Linux Server"\nVERSION="9.5"\nID="ol"\nID_LIKE="fedora"\nVERSION_ID="9.5"\n'
        'PRETTY_NAME="Oracle Linux Server 9.5"\nHOME_URL="https://linux.oracle.com/"\n',
    ),
    "scratch": Family("scratch", "", "busybox", False, frozenset({"*"}), "", "", None),
}

# Where alpine keeps its busybox applets (the rest live in /usr/bin).
ALPINE_BIN = {
    "sh",
    "ash",
    "cat",
    "chmod",
    "cp",
    "date",
    "echo",
    "false",
    "grep",
    "egrep",
    "fgrep",
    "hostname",
    "kill",
    "ln",
    "ls",
    "mkdir",
    "mktemp",
    "mv",
    "ps",
    "pwd",
    "rm",
    "sed",
    "sleep",
    "touch",
    "true",
    "uname",
}


def foreign_package_managers(fam: Family) -> set[str]:
    """The package managers other distributions have (ubuntu uses Debian's)."""
    own = "debian" if fam.name == "ubuntu" else fam.name
    return {tool for tool, distro in PACKAGE_MANAGERS.items() if distro != own}


def family(name: str) -> Family:
    return FAMILIES.get(name, FAMILIES["debian"])


def tool_path(fam: Family, tool: str) -> str:
    if fam.name == "busybox":
        return f"/bin/{tool}"
    if fam.name == "alpine":
        return f"/bin/{tool}" if tool in ALPINE_BIN else f"/usr/bin/{tool}"
    return f"/usr/bin/{tool}"
