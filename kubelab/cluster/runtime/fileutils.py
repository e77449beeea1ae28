"""File utilities on the container's in-memory filesystem: ls mkdir touch rm cp mv ln chmod find mktemp.

`ls -l` prints busybox's or GNU's columns (a ConfigMap mount shows its `..data` symlinks, as on
a real node); errors carry each tool's wording for the image's flavour.

Read by: commands (registered utilities). Reads: filesystem, session, textutils (option parsing).
"""

from __future__ import annotations

import posixpath
import stat as statmod

from kubelab.cluster.runtime.clock import strftime
from kubelab.cluster.runtime.commands import utility
from kubelab.cluster.runtime.filesystem import Node
from kubelab.cluster.runtime.session import Call
from kubelab.cluster.runtime.shell_expand import matches
from kubelab.cluster.runtime.textutils import split_options

USERS = {0: "root", 1: "daemon", 33: "www-data", 101: "nginx", 999: "999", 65534: "nobody"}


def _mode_string(node: Node) -> str:
    kind = {"dir": "d", "link": "l"}.get(node.kind, "-")
    return kind + statmod.filemode(node.mode)[1:]


def _size(node: Node) -> int:
    return 4096 if node.kind == "dir" else len(node.target) if node.kind == "link" else len(node.data)


def _when(node: Node, now: float) -> str:
    if abs(now - node.mtime) < 183 * 86400:
        return strftime("%b %e %H:%M", node.mtime)
    return strftime("%b %e  %Y", node.mtime)


def _names_by_id(c: Call, path: str) -> dict[int, str]:
    """uid → user (/etc/passwd) or gid → group (/etc/group); the first line for an id wins, as ls shows."""
    names: dict[int, str] = {}
    try:
        text = c.fs.read_text(path)
    except OSError:
        return names
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) > 2 and parts[2].isdigit():
            names.setdefault(int(parts[2]), parts[0])
    return names


@utility("ls")
def ls(c: Call) -> int:
    opts, paths = split_options(c.args)
    long = "l" in opts
    status = 0
    targets = paths or ["."]
    files: list[tuple[str, str]] = []
    dirs: list[str] = []
    for p in targets:
        full = c.path(p)
        try:
            node = c.fs.stat(full, follow=not long or p.endswith("/") or full == "/")
        except OSError as e:
            c.err(f"ls: {p}: {e.strerror}\n" if c.busybox else f"ls: cannot access '{p}': {e.strerror}\n")
            status = 1 if c.busybox else 2
            continue
        if node.kind == "dir" and "d" not in opts:
            dirs.append(p)
        else:
            files.append((p, full))
    _print_entries(c, [(p, full) for p, full in files], long, opts)
    for k, d in enumerate(dirs):
        full = c.path(d)
        try:
            names = c.fs.listdir(full, c.session.cred)
        except OSError as e:
            c.err(
                f"ls: can't open '{d}': {e.strerror}\n"
                if c.busybox
                else f"ls: cannot open directory '{d}': {e.strerror}\n"
            )
            status = 1 if c.busybox else 2
            continue
        if "a" in opts:
            names = [".", ".."] + names
        elif "A" not in opts:
            names = [n for n in names if not n.startswith(".")]
        if len(targets) > 1:
            c.out(("\n" if k or files else "") + f"{d}:\n")
        entries = [
            (n, posixpath.join(full, n) if n not in (".", "..") else posixpath.normpath(posixpath.join(full, n)))
            for n in names
        ]
        if long:
            blocks = 0
            for _, path in entries:
                try:
                    node = c.fs.stat(path, follow=False)
                    blocks += ((_size(node) + 4095) // 4096) * 4 if node.kind == "file" else 0
                except OSError:
                    pass
            c.out(f"total {blocks}\n")
        _print_entries(c, entries, long, opts)
    return status


def _print_entries(c: Call, entries: list[tuple[str, str]], long: bool, opts: dict[str, str]) -> None:
    if not long:
        for name, _ in entries:
            c.out(name + "\n")
        return
    rows = []
    users, groups = _names_by_id(c, "/etc/passwd"), _names_by_id(c, "/etc/group")  # once per listing
    for name, path in entries:
        try:
            node = c.fs.stat(path, follow=False)
        except OSError:
            continue
        links = 2 if node.kind == "dir" else 1
        suffix = f" -> {node.target}" if node.kind == "link" else ""
        rows.append(
            (
                _mode_string(node),
                links,
                users.get(node.uid, str(node.uid)),
                groups.get(node.gid, str(node.gid)),
                _size(node),
                _when(node, c.session.now()),
                name + suffix,
            )
        )
    if c.busybox:
        for mode, links, user, group, size, when, name in rows:
            c.out(f"{mode} {links:4d} {user:<8} {group:<8} {size:9d} {when} {name}\n")
        return
    w_links = max((len(str(r[1])) for r in rows), default=1)
    w_user = max((len(r[2]) for r in rows), default=1)
    w_group = max((len(r[3]) for r in rows), default=1)
    w_size = max((len(str(r[4])) for r in rows), default=1)
    for mode, links, user, group, size, when, name in rows:
        c.out(f"{mode} {links:>{w_links}} {user:<{w_user}} {group:<{w_group}} {size:>{w_size}} {when} {name}\n")


def _fs_error(c: Call, busy: str, gnu: str) -> None:
    c.err(f"{c.name}: {busy if c.busybox else gnu}\n")


@utility("mkdir")
def mkdir(c: Call) -> int:
    opts, paths = split_options(c.args, "m")
    mode = int(opts["m"], 8) if opts.get("m", "").isdigit() else 0o755
    status = 0
    for p in paths:
        try:
            if "p" in opts and c.fs.isdir(c.path(p)):
                continue
            c.fs.mkdir(c.path(p), parents="p" in opts, mode=mode, cred=c.session.cred)
        except OSError as e:
            _fs_error(c, f"can't create directory '{p}': {e.strerror}", f"cannot create directory '{p}': {e.strerror}")
            status = 1
    return status


@utility("touch")
def touch(c: Call) -> int:
    _, paths = split_options(c.args)
    status = 0
    for p in paths:
        full = c.path(p)
        try:
            if c.fs.exists(full):
                if c.fs.is_read_only(full):
                    raise OSError(30, "Read-only file system")
                c.fs.touch(full, c.session.now())
            else:
                c.fs.write(full, b"", cred=c.session.cred)
        except OSError as e:
            _fs_error(c, f"{p}: {e.strerror}", f"cannot touch '{p}': {e.strerror}")
            status = 1
    return status


@utility("rm")
def rm(c: Call) -> int:
    opts, paths = split_options(c.args)
    recursive, force = "r" in opts or "R" in opts, "f" in opts
    status = 0
    for p in paths:
        full = c.path(p)
        try:
            node = c.fs.stat(full, follow=False)
            if node.kind == "dir" and not recursive:
                _fs_error(c, f"'{p}' is a directory", f"cannot remove '{p}': Is a directory")
                status = 1
                continue
            c.fs.remove(full, recursive=recursive, cred=c.session.cred)
        except OSError as e:
            if force and e.errno == 2:
                continue
            _fs_error(c, f"can't remove '{p}': {e.strerror}", f"cannot remove '{p}': {e.strerror}")
            status = 1
    return status


def _copy(c: Call, src: str, dst: str, recursive: bool) -> None:
    node = c.fs.stat(src)
    if node.kind == "dir":
        if not recursive:
            raise IsADirectoryError(21, "Is a directory")
        if not c.fs.isdir(dst):
            c.fs.mkdir(dst, cred=c.session.cred)
        for name in c.fs.listdir(src):
            _copy(c, posixpath.join(src, name), posixpath.join(dst, name), recursive)
        return
    c.fs.write(dst, c.fs.read(src, c.session.cred), mode=node.mode, cred=c.session.cred)


@utility("cp", "mv")
def cp(c: Call) -> int:
    opts, paths = split_options(c.args)
    if len(paths) < 2:
        return c.fail("missing file operand" if not c.busybox else "missing file operand")
    *sources, dest = paths
    dest_full = c.path(dest)
    status = 0
    for s in sources:
        src = c.path(s)
        target = posixpath.join(dest_full, posixpath.basename(src)) if c.fs.isdir(dest_full) else dest_full
        try:
            _copy(c, src, target, "r" in opts or "R" in opts or "a" in opts or c.name == "mv")
            if c.name == "mv":
                c.fs.remove(src, recursive=True, cred=c.session.cred)
        except OSError as e:
            verb = "stat" if e.errno == 2 else ("create" if c.name == "cp" else "move")
            _fs_error(
                c,
                f"can't {verb} '{s if e.errno == 2 else dest}': {e.strerror}",
                f"cannot {verb} '{s if e.errno == 2 else dest}': {e.strerror}",
            )
            status = 1
    return status


@utility("ln")
def ln(c: Call) -> int:
    opts, paths = split_options(c.args)
    if len(paths) < 2:
        return c.fail("missing file operand")
    target, link = paths[0], paths[1]
    full = c.path(link)
    if c.fs.isdir(full):
        full = posixpath.join(full, posixpath.basename(target))
    try:
        if "f" in opts and c.fs.exists(full):
            c.fs.remove(full, cred=c.session.cred)
        if "s" in opts:
            c.fs.symlink(target, full, cred=c.session.cred)
        else:
            c.fs.write(full, c.fs.read(c.path(target)), cred=c.session.cred)
    except OSError as e:
        _fs_error(c, f"{link}: {e.strerror}", f"failed to create symbolic link '{link}': {e.strerror}")
        return 1
    return 0


@utility("chmod")
def chmod(c: Call) -> int:
    opts, args = split_options(c.args)
    if len(args) < 2:
        return c.fail("missing operand")
    spec, paths = args[0], args[1:]
    status = 0
    for p in paths:
        full = c.path(p)
        try:
            node = c.fs.stat(full)
            mode = node.mode
            if spec.isdigit():
                mode = int(spec, 8)
            else:
                who, op, perms = (
                    spec.partition("+") if "+" in spec else spec.partition("-") if "-" in spec else spec.partition("=")
                )
                bits = sum({"r": 0o444, "w": 0o222, "x": 0o111}.get(ch, 0) for ch in perms)
                mask = 0
                for w in who or "a":
                    mask |= {"u": 0o700, "g": 0o070, "o": 0o007, "a": 0o777}.get(w, 0)
                bits &= mask
                mode = mode | bits if op == "+" else mode & ~bits if op == "-" else (mode & ~mask) | bits
            c.fs.chmod(full, mode, cred=c.session.cred)
        except OSError as e:
            _fs_error(c, f"{p}: {e.strerror}", f"changing permissions of '{p}': {e.strerror}")
            status = 1
    return status


@utility("find")
def find(c: Call) -> int:
    args = list(c.args)
    roots = []
    while args and not args[0].startswith("-"):
        roots.append(args.pop(0))
    name = kind = None
    while args:
        a = args.pop(0)
        if a in ("-name", "-iname") and args:
            name = args.pop(0)
        elif a == "-type" and args:
            kind = {"f": "file", "d": "dir", "l": "link"}.get(args.pop(0))
        elif a in ("-maxdepth", "-mindepth") and args:
            args.pop(0)
    status = 0
    for root in roots or ["."]:
        full = c.path(root)
        if not c.fs.exists(full):
            c.err(
                f"find: {root}: No such file or directory\n"
                if c.busybox
                else f"find: '{root}': No such file or directory\n"
            )
            status = 1
            continue
        paths = [full] + (c.fs.walk_files(full) if c.fs.isdir(full) else [])
        for p in paths:
            node = c.fs.stat(p, follow=False)
            if kind and node.kind != kind:
                continue
            if name and not matches(name, posixpath.basename(p)):
                continue
            shown = root.rstrip("/") + p[len(full.rstrip("/")) :] if p != full else root
            c.out(shown + "\n")
    return status


@utility("mktemp")
def mktemp(c: Call) -> int:
    opts, _ = split_options(c.args)
    n = len(c.fs.listdir("/tmp")) if c.fs.isdir("/tmp") else 0
    path = f"/tmp/tmp.{'kubelab'[:6]}{n:03d}"[:18] if not c.busybox else f"/tmp/tmp.{n:06d}"
    try:
        if "d" in opts:
            c.fs.mkdir(path, mode=0o700, cred=c.session.cred)
        else:
            c.fs.write(path, b"", mode=0o600, cred=c.session.cred)
    except OSError as e:
        return c.fail(f"failed to create file via template '{path}': {e.strerror}")
    c.out(path + "\n")
    return 0
