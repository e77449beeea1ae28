#!/usr/bin/env python3
"""Generate kubelab/server/protobuf_fields.json: the wire schema of the Kubernetes kinds kubectl sends as protobuf.

For every message of the chosen k8s.io/api and k8s.io/apimachinery packages it records, in Go struct order,
one row per field: [number, JSON name, type, flags]. Field numbers, proto types and repeated/map come from the
packages' `generated.proto`; how Go's encoding/json prints the field (pointer or not, omitempty/omitzero, an
embedded struct inlined into its parent) comes from the `protobuf:"…"` and `json:"…"` tags of the Go structs.

Usage (sources are git mirrors or checkouts of github.com/kubernetes/api and github.com/kubernetes/apimachinery):
    python scripts/gen_protobuf_fields.py --api /path/to/kubernetes/api --apimachinery /path/to/apimachinery
The .proto and .go sources are read, never copied; only the derived table is written.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from typing import Any

API_PACKAGES = ["core/v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "networking/v1",
                "policy/v1", "rbac/v1", "scheduling/v1", "coordination/v1", "discovery/v1"]
MACHINERY_PACKAGES = ["pkg/apis/meta/v1", "pkg/runtime", "pkg/runtime/schema", "pkg/util/intstr", "pkg/api/resource"]
OUTPUT = os.path.join(os.path.dirname(__file__), "..", "kubelab", "server", "protobuf_fields.json")

SCALARS = {"string", "int32", "int64", "bool", "bytes", "double", "float", "uint32", "uint64", "sint32", "sint64",
           "fixed32", "fixed64", "sfixed32", "sfixed64"}
_FIELD_RE = re.compile(r"^\s*(optional|repeated|required)\s+(\S+)\s+(\w+)\s*=\s*(\d+)\s*(\[.*\])?\s*;")
_MAP_RE = re.compile(r"^\s*map\s*<\s*(\S+)\s*,\s*(\S+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;")
_GO_FIELD_RE = re.compile(r"^\s*(?:([A-Z]\w*)\s+)?(\S+)\s+`([^`]*)`")
_TAG_RE = re.compile(r'(\w+):"([^"]*)"')


class Source:
    """A repository as a git directory (read at HEAD) or a plain checkout."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.is_git = os.path.isfile(os.path.join(path, "HEAD")) and not os.path.isdir(os.path.join(path, ".git"))
        self.commit = self._git("rev-parse", "HEAD").strip() if self.is_git else self._checkout_commit()

    def _git(self, *args: str) -> str:
        return subprocess.run(["git", "--git-dir", self.path, *args], check=True, capture_output=True,
                              text=True).stdout

    def _checkout_commit(self) -> str:
        try:
            return subprocess.run(["git", "-C", self.path, "rev-parse", "HEAD"], check=True, capture_output=True,
                                  text=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    def files(self, directory: str) -> list[str]:
        if self.is_git:
            names = self._git("ls-tree", "--name-only", f"HEAD:{directory}").split()
        else:
            names = os.listdir(os.path.join(self.path, directory))
        return [f"{directory}/{n}" for n in sorted(names)]

    def read(self, path: str) -> str:
        if self.is_git:
            return self._git("show", f"HEAD:{path}")
        with open(os.path.join(self.path, path), encoding="utf-8") as f:
            return f.read()


def parse_proto(text: str) -> tuple[str, dict[str, list[tuple[int, str, str, str]]]]:
    """(package, {message: [(number, proto name, type, label)]}) with types made fully qualified."""
    package = re.search(r"^package\s+([\w.]+)\s*;", text, re.M).group(1)  # type: ignore[union-attr]
    messages: dict[str, list[tuple[int, str, str, str]]] = {}
    stack: list[str] = []
    for raw in text.splitlines():
        line = raw.split("//", 1)[0]
        m = re.match(r"^\s*message\s+(\w+)\s*\{", line)
        if m:
            stack.append(m.group(1))
            messages[package + "." + ".".join(stack)] = []
            continue
        if re.match(r"^\s*\}", line) and stack:
            stack.pop()
            continue
        if not stack:
            continue
        fields = messages[package + "." + ".".join(stack)]
        m = _MAP_RE.match(line)
        if m:
            key, value, name, number = m.groups()
            fields.append((int(number), name, f"map:{qualify(key, package)}:{qualify(value, package)}", "map"))
            continue
        m = _FIELD_RE.match(line)
        if m:
            label, ftype, name, number, _ = m.groups()
            fields.append((int(number), name, qualify(ftype, package), label))
    return package, messages


def qualify(ftype: str, package: str) -> str:
    if ftype in SCALARS:
        return ftype
    if ftype.startswith("."):
        return ftype[1:]
    return f"{package}.{ftype}"


def parse_go_structs(text: str) -> dict[str, dict[str, dict[str, Any]]]:
    """{struct: {proto field name: {"go": type, "json": name, "opts": [...], "embedded": bool, "order": i}}}."""
    structs: dict[str, dict[str, dict[str, Any]]] = {}
    current: dict[str, dict[str, Any]] | None = None
    depth = 0
    for line in text.splitlines():
        if current is None:
            m = re.match(r"^type\s+(\w+)\s+struct\s*\{\s*$", line)
            if m:
                current = structs.setdefault(m.group(1), {})
                depth = 1
            continue
        stripped = line.split("//", 1)[0] if "`" not in line else line
        depth += stripped.count("{") - stripped.count("}")
        if depth <= 0:
            current = None
            continue
        m = _GO_FIELD_RE.match(line)
        if not m or depth != 1:
            continue
        field_name, go_type, tag = m.groups()
        tags = dict(_TAG_RE.findall(tag))
        if "protobuf" not in tags:
            continue
        proto = dict(p.split("=", 1) for p in tags["protobuf"].split(",") if "=" in p)
        json_parts = tags.get("json", "").split(",")
        # An embedded struct's tag may leave the name out: go-to-protobuf then names it after the type.
        type_name = go_type.lstrip("*").rsplit(".", 1)[-1]
        proto_name = proto.get("name") or type_name[:1].lower() + type_name[1:]
        current[proto_name] = {
            "go": go_type,
            "json": json_parts[0],
            "opts": json_parts[1:],
            "embedded": field_name is None,
            "order": len(current),
        }
    return structs


def flags_for(label: str, go: dict[str, Any] | None) -> str:
    flags = ""
    if label == "repeated":
        flags += "r"
    if go is None:
        return flags + "p"  # no Go struct tag: keep whatever the wire carries
    if go["go"].startswith("*"):
        flags += "p"
    if "omitempty" in go["opts"]:
        flags += "o"
    if "omitzero" in go["opts"]:
        flags += "z"
    if (go["embedded"] and go["json"] == "") or "inline" in go["opts"]:
        flags += "i"
    return flags


def build(api: Source, machinery: Source) -> dict[str, Any]:
    messages: dict[str, list[list[Any]]] = {}
    for source, packages in ((api, API_PACKAGES), (machinery, MACHINERY_PACKAGES)):
        for directory in packages:
            files = source.files(directory)
            package, protos = parse_proto(source.read(f"{directory}/generated.proto"))
            structs: dict[str, dict[str, dict[str, Any]]] = {}
            for path in files:
                if path.endswith(".go") and not path.endswith("_test.go") and "generated" not in path:
                    for name, fields in parse_go_structs(source.read(path)).items():
                        structs.setdefault(name, {}).update(fields)
            for message, fields in protos.items():
                go_fields = structs.get(message.rsplit(".", 1)[-1], {})
                rows = []
                for number, name, ftype, label in fields:
                    go = go_fields.get(name)
                    json_name = go["json"] if go and go["json"] not in ("", "-") else name
                    order = go["order"] if go else 1000 + number
                    rows.append((order, [number, json_name, ftype, flags_for(label, go)]))
                messages[message] = [row for _, row in sorted(rows, key=lambda r: r[0])]
    return {
        "_note": ("Generated by scripts/gen_protobuf_fields.py from the generated.proto files and Go struct tags of "
                  f"github.com/kubernetes/api@{api.commit} and github.com/kubernetes/apimachinery@{machinery.commit}. "
                  "Each message lists its fields in Go struct order as [number, jsonName, type, flags]; type is a "
                  "proto scalar, a message name, or map:KEY:VALUE; flags: r repeated, p Go pointer, o omitempty, "
                  "z omitzero, i embedded struct inlined into its parent's JSON. Do not edit by hand."),
        "messages": messages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", required=True, help="kubernetes/api: git dir or checkout")
    parser.add_argument("--apimachinery", required=True, help="kubernetes/apimachinery: git dir or checkout")
    parser.add_argument("--output", default=OUTPUT)
    args = parser.parse_args()
    table = build(Source(args.api), Source(args.apimachinery))
    with open(args.output, "w", encoding="utf-8") as f:
        f.write("{\n")
        f.write(f'"_note": {json.dumps(table["_note"])},\n"messages": {{\n')
        items = sorted(table["messages"].items())
        for i, (name, rows) in enumerate(items):
            sep = "," if i < len(items) - 1 else ""
            f.write(f"{json.dumps(name)}: {json.dumps(rows, separators=(',', ':'))}{sep}\n")
        f.write("}}\n")
    print(f"wrote {len(table['messages'])} messages to {os.path.normpath(args.output)}")


if __name__ == "__main__":
    main()
