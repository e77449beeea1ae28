"""The validator's parts: schema lookup, Go-compatible quantities, cron schedules, base64 and IP checks."""

from __future__ import annotations

import pytest

from kubelab.api import kinds, schemas, shapes
from kubelab.api._quantity import QuantityError, canonical, parse
from kubelab.api.cron_schedule import schedule_error
from kubelab.api.gojson import base64_error, time_error
from kubelab.api.rules_service import ip_errors


def test_schemas_are_loaded_once_and_found_by_group_version_kind():
    assert schemas.definitions() is schemas.definitions()
    deployment = schemas.schema_for(kinds.for_object("apps/v1", "Deployment"))
    assert deployment["x-kubernetes-group-version-kind"] == [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    spec = schemas.resolve(deployment["properties"]["spec"])
    assert spec is schemas.definitions()["io.k8s.api.apps.v1.DeploymentSpec"]
    assert set(spec["required"]) == {"selector", "template"}


def test_every_served_kind_has_a_root_shape():
    for kind in kinds.all_kinds():
        root = shapes.root(kind)
        assert root.code == shapes.STRUCT and {"apiVersion", "kind", "metadata"} <= set(root.props)


@pytest.mark.parametrize(("text", "expected"), [
    ("0.5", "500m"), ("1024Mi", "1Gi"), ("1536Mi", "1536Mi"), ("1000", "1k"), ("1500", "1500"),
    ("100m", "100m"), ("2", "2"), ("1e3", "1e3"), ("0.1Gi", "107374182400m"), ("512Ki", "512Ki"),
    ("1n", "1n"), ("0.0000000001", "1n"), ("-1", "-1"), ("+5", "5"), ("0", "0"), ("5.", "5"),
])
def test_quantities_print_in_canonical_form(text, expected):
    assert canonical(parse(text)) == expected


@pytest.mark.parametrize(("text", "error"), [
    ("1Gb", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("1Qi", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("1KiB", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("1ki", "unable to parse quantity's suffix"),
    ("1e", "unable to parse quantity's suffix"),
])
def test_malformed_quantities_fail_with_apimachinery_errors(text, error):
    with pytest.raises(QuantityError, match=None) as info:
        parse(text)
    assert str(info.value) == error


@pytest.mark.parametrize(("schedule", "error"), [
    ("*/5 * * * *", None),
    ("0 9 * * mon-fri", None),
    ("@hourly", None),
    ("bad", "expected exactly 5 fields, found 1: [bad]"),
    ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
    ("61 * * * *", "end of range (61) above maximum (59): 61"),
    ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
    ("@sometimes", "unrecognized descriptor: @sometimes"),
    ("", "empty spec string"),
])
def test_cron_schedules_fail_with_the_go_parser_messages(schedule, error):
    assert schedule_error(schedule) == error


@pytest.mark.parametrize(("text", "error"), [
    ("aGVsbG8=", None), ("aGVsbG8gd29ybGQ=", None), ("", None), ("aGVs\nbG8=", None),
    ("hello world", "illegal base64 data at input byte 5"),
    ("aGVsbG8", "illegal base64 data at input byte 4"),
    ("a===", "illegal base64 data at input byte 1"),
    ("aGk=x", "illegal base64 data at input byte 4"),
])
def test_base64_errors_point_at_the_same_byte_as_go(text, error):
    assert base64_error(text) == error


def test_rfc3339_times():
    assert time_error("2024-01-31T12:00:00Z") is None
    assert time_error("2024-01-31T12:00:00.5+02:00") is None
    assert time_error("2024-13-01T00:00:00Z") == 'parsing time "2024-13-01T00:00:00Z": month out of range'


@pytest.mark.parametrize(("ip", "errors"), [
    ("10.96.0.1", []), ("2001:db8::1", []),
    ("10.96.0.300", ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]),
    ("010.96.0.1", ["must not have leading 0s"]),
    ("2001:DB8::1", ['must be in canonical form ("2001:db8::1")']),
    ("::ffff:10.0.0.1", ["must not be an IPv4-mapped IPv6 address"]),
])
def test_ip_addresses_are_checked_strictly(ip, errors):
    assert ip_errors(ip) == errors
