"""The slice of resource.Quantity the validator needs: parse errors, exact value, canonical text.

`parse("500m")` returns a `Quantity(value, format)` with the value as an exact Fraction, or raises
`QuantityError` with apimachinery's message (`quantities must match the regular expression …`).
`canonical(q)` prints what a real apiserver stores and prints (`0.5` → `500m`, `1024Mi` → `1Gi`).
A stopgap: when kubelab.api gets its full quantities module, this file folds into it.

Read by: api.decoding, api.rules_resources, api.rules_volumes, api.rules_core (comparisons, messages).
Reads: nothing.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT = f"quantities must match the regular expression '{SPLIT_RE}'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"

DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT = "DecimalSI", "BinarySI", "DecimalExponent"
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SUFFIX = {v: k for k, v in _DECIMAL.items()}
_BINARY_SUFFIX = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_NANO = Fraction(1, 10**9)
_MAX_BINARY = Fraction(2**63 - 1)
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")


class QuantityError(ValueError):
    pass


class Quantity(NamedTuple):
    value: Fraction
    format: str


def _split(text: str) -> tuple[bool, str, str, str, str]:
    """parseQuantityString: sign, numeric text, integer digits, fraction digits, suffix."""
    positive, pos, end = True, 0, len(text)
    if text[0] in "+-":
        positive = text[0] == "+"
        pos = 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
    value = text[:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(ERR_FORMAT)
    return positive, value, num, denom, text[suffix_start:]


@lru_cache(maxsize=4096)
def parse(text: str) -> Quantity:
    """resource.ParseQuantity (after Quantity.UnmarshalJSON trimmed spaces); cached, manifests repeat values."""
    if not text:
        raise QuantityError(ERR_FORMAT)
    if text == "0":
        return Quantity(Fraction(0), DECIMAL_SI)
    positive, _value, num, denom, suffix = _split(text)
    if suffix in _DECIMAL:
        base, exponent, fmt = 10, _DECIMAL[suffix], DECIMAL_SI
    elif suffix in _BINARY:
        base, exponent, fmt = 2, _BINARY[suffix], BINARY_SI
    elif len(suffix) > 1 and suffix[0] in "eE":
        try:
            base, exponent, fmt = 10, int(suffix[1:]), DECIMAL_EXPONENT
        except ValueError:
            raise QuantityError(ERR_SUFFIX) from None
    else:
        raise QuantityError(ERR_SUFFIX)
    amount = Fraction(int(num + denom), 10 ** len(denom)) * Fraction(base) ** exponent
    if amount and amount.denominator != 1:
        # Kubernetes rounds anything finer than a nano-unit up, away from zero.
        nanos = amount / _NANO
        amount = Fraction(-(-nanos.numerator // nanos.denominator)) * _NANO
    if fmt == BINARY_SI and amount > _MAX_BINARY:
        amount = _MAX_BINARY
    if fmt == BINARY_SI and 0 < amount < 1:
        fmt = DECIMAL_SI
    return Quantity(amount if positive else -amount, fmt)


def parse_json(value: object) -> Quantity:
    """What Quantity.UnmarshalJSON makes of a decoded JSON value (a string or a number)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise QuantityError(ERR_FORMAT)
    if isinstance(value, str):
        return parse(value.strip())
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or "inf" in text or "nan" in text:
            text = format(value, "f")
        return parse(text)
    return parse(str(value))


@lru_cache(maxsize=4096)
def canonical(q: Quantity) -> str:
    """Quantity.String(): the canonical form a real apiserver stores."""
    value, fmt = q
    if value == 0:
        return "0"
    if fmt == BINARY_SI and (-1024 < value < 1024 or value.denominator != 1):
        fmt = DECIMAL_SI
    if fmt == BINARY_SI:
        mantissa, step = int(value), 0
        while step < 6 and mantissa % 1024 == 0:
            mantissa //= 1024
            step += 1
        return f"{mantissa}{_BINARY_SUFFIX[step]}"
    # Smallest exponent (a multiple of 3) that leaves an integer mantissa.
    scaled, exponent = value, 0
    while scaled.denominator != 1:
        scaled *= 10
        exponent -= 1
    mantissa = int(scaled)
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    shift = exponent % 3
    mantissa *= 10**shift
    exponent -= shift
    if fmt == DECIMAL_SI and exponent in _DECIMAL_SUFFIX:
        return f"{mantissa}{_DECIMAL_SUFFIX[exponent]}"
    return f"{mantissa}e{exponent}" if exponent else str(mantissa)
