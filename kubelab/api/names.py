"""Name and label syntax, with apimachinery's exact messages, and Kubernetes' name generators.

`dns1123_subdomain`, `dns1123_label`, `qualified_name` and `label_value` return the list of
problems apimachinery's `IsDNS1123Subdomain`… would return (empty when valid). The
generators reproduce Kubernetes' shapes: `generateName` suffixes of 5 characters from the
"safe" alphabet, `pod-template-hash` values from an FNV-32a hash.

Read by: api.validation, api.selectors, cluster (names of generated objects). Reads: nothing.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any, Protocol

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + r"(\." + DNS1123_LABEL_FMT + ")*"
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"

_LABEL_RE = re.compile("^" + DNS1123_LABEL_FMT + "$")
_SUBDOMAIN_RE = re.compile("^" + DNS1123_SUBDOMAIN_FMT + "$")
_QUALIFIED_RE = re.compile("^" + QUALIFIED_NAME_FMT + "$")
_LABEL_VALUE_RE = re.compile("^" + LABEL_VALUE_FMT + "$")

# k8s.io/apimachinery/pkg/util/rand: no vowels (no words), no confusable 0/1/3/l.
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
GENERATED_SUFFIX_LEN = 5
MAX_GENERATED_NAME_LEN = 63 - GENERATED_SUFFIX_LEN


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    if examples:
        ex = ",  or ".join(f"'{e}'" for e in examples)
        return f"{msg} (e.g. {ex}, regex used for validation is '{fmt}')"
    return f"{msg} (regex used for validation is '{fmt}')"


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


def _max_bytes(n: int) -> str:
    # Label keys and values moved to apimachinery's validate/content package, which counts bytes.
    return f"must be no more than {n} bytes"


def dns1123_label(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append(_max_len(63))
    if not _LABEL_RE.match(value):
        if _SUBDOMAIN_RE.match(value):
            errors.append("must not contain dots")  # a valid subdomain, so the dots are the problem
            return errors
        errors.append(_regex_error(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
            "and must start and end with an alphanumeric character", DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errors


def dns1123_subdomain(value: str) -> list[str]:
    errors = []
    if len(value) > 253:
        errors.append(_max_len(253))
    if not _SUBDOMAIN_RE.match(value):
        errors.append(_regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
            "and must start and end with an alphanumeric character", DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errors


def qualified_name(value: str) -> list[str]:
    """Label and annotation keys: an optional DNS subdomain prefix, '/', and a name part."""
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend("prefix part " + e for e in dns1123_subdomain(prefix))
    else:
        return ["a valid label key " + _regex_error(
            "must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character", QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name.encode()) > 63:
        errors.append("name part " + _max_bytes(63))
    if not _QUALIFIED_RE.match(name):
        errors.append("name part " + _regex_error(
            "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character", QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"))
    return errors


def label_value(value: str) -> list[str]:
    errors = []
    if len(value.encode()) > 63:
        errors.append(_max_bytes(63))
    if not _LABEL_VALUE_RE.match(value):
        errors.append(_regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character", LABEL_VALUE_FMT, "MyValue", "my_value",
            "12345"))
    return errors


class _Random(Protocol):
    def choice(self, seq: str) -> str: ...


# random.Random.choice(s) is s[_randbelow(len(s))], and _randbelow draws getrandbits(len(s).bit_length())
# until the number is below len(s) (CPython 3.10-3.13; a subclass may draw otherwise, so only the exact
# class takes this path). Drawing those bits here gives the same characters from the same draws without two
# Python calls per character (every pod's token volume name: callgrind 19.7k → 9.1k instructions per suffix).
_SAFE_BITS = len(SAFE_ALPHABET).bit_length()
_SAFE_COUNT = len(SAFE_ALPHABET)


def random_suffix(rng: _Random, length: int = GENERATED_SUFFIX_LEN) -> str:
    if type(rng) is not random.Random:
        choice = rng.choice
        return "".join([choice(SAFE_ALPHABET) for _ in range(length)])
    bits, alphabet, count, width = rng.getrandbits, SAFE_ALPHABET, _SAFE_COUNT, _SAFE_BITS
    out: list[str] = []
    while len(out) < length:
        r = bits(width)
        if r < count:
            out.append(alphabet[r])
    return "".join(out)


def generate_name(base: str, rng: _Random) -> str:
    """What apiserver makes of `metadata.generateName`: base (cut to 58) + 5 safe characters."""
    return base[:MAX_GENERATED_NAME_LEN] + random_suffix(rng)


def safe_encode(text: str) -> str:
    """apimachinery's rand.SafeEncodeString: map each byte onto the safe alphabet."""
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in text.encode())


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def template_hash(template: Any, collision_count: int | None = None) -> str:
    """The `pod-template-hash` label value for a pod template (Deployment controller's ComputeHash)."""
    text = json.dumps(template, sort_keys=True, separators=(",", ":"))
    if collision_count:
        text += str(collision_count)
    return safe_encode(str(fnv32a(text.encode())))
