"""An all-in-one W&B installation answers through its TLS proxy."""

import json

testinfra_hosts = ["ansible://all-in-one"]

CA = "/etc/nginx/wandb-tls/ca.crt"
BASE = "https://all-in-one"


def test_ready_through_the_proxy(host):
    body = json.loads(host.check_output(f"curl -sS --fail-with-body --cacert {CA} {BASE}/ready"))
    assert body["status"] == "ready"
    assert body["version"] == "0.1.0"


def test_http_redirects_to_https(host):
    headers = host.check_output("curl -sS -o /dev/null -D - http://all-in-one/some/path?x=1")
    assert "301" in headers.splitlines()[0]
    assert "Location: https://all-in-one/some/path?x=1" in headers


def test_proxy_sets_forwarding_headers_and_hsts(host):
    response = host.check_output(f"curl -sS -D /dev/stderr --cacert {CA} {BASE}/headers 2>&1")
    assert "strict-transport-security: max-age=31536000" in response.lower()
    echoed = json.loads(response[response.index("{") :])
    assert echoed["Host"] == "all-in-one"
    assert echoed["X-Forwarded-Proto"] == "https"
    assert echoed["X-Forwarded-Host"] == "all-in-one"


def test_server_port_is_loopback_only(host):
    listeners = host.check_output("ss -Htln")
    assert "127.0.0.1:8080" in listeners
    assert "0.0.0.0:8080" not in listeners
