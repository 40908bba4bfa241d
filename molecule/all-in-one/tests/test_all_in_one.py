"""An all-in-one W&B installation answers through its TLS proxy."""

import json

from lab_playbook import run_playbook

testinfra_hosts = ["ansible://all-in-one"]

CA = "/etc/nginx/wandb-tls/ca.crt"
BASE = "https://all-in-one"


def test_ready_through_the_proxy_with_every_tier(host):
    body = json.loads(host.check_output(f"curl -sS --fail-with-body --cacert {CA} {BASE}/ready"))
    assert body["status"] == "ready", body
    assert body["version"] == "0.1.0"
    assert {name: body["checks"].get(name) for name in ("mysql", "bucket", "redis")} == {
        "mysql": "ok",
        "bucket": "ok",
        "redis": "ok",
    }


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


WEBSOCKET_CLIENT = r"""
import base64, os, socket, ssl, sys
context = ssl.create_default_context(cafile=sys.argv[1])
with socket.create_connection(("all-in-one", 443), timeout=10) as raw:
    with context.wrap_socket(raw, server_hostname="all-in-one") as tls:
        key = base64.b64encode(os.urandom(16)).decode()
        tls.sendall((f"GET /ws HTTP/1.1\r\nHost: all-in-one\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            response += tls.recv(1)
        print(response.split(b"\r\n")[0].decode())
        payload, mask = b"hello through the proxy", os.urandom(4)
        tls.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        head = tls.recv(2)
        print(tls.recv(head[1] & 0x7F).decode())
"""


def test_websocket_upgrade_passes_the_proxy(host):
    host.check_output("cat > /tmp/ws_client.py <<'PYEOF'\n%s\nPYEOF" % WEBSOCKET_CLIENT)
    status, echoed = host.check_output(f"python3 /tmp/ws_client.py {CA}").splitlines()
    assert status == "HTTP/1.1 101 Switching Protocols"
    assert echoed == "hello through the proxy"


def test_large_upload_passes_the_proxy(host):
    size = 256 * 1024 * 1024  # beyond any default body cap (nginx: 1 MiB)
    host.check_output(f"head -c {size} /dev/urandom > /var/tmp/upload.bin")
    expected = host.check_output("sha256sum /var/tmp/upload.bin").split()[0]
    result = json.loads(
        host.check_output(f"curl -sS --fail-with-body --cacert {CA} --data-binary @/var/tmp/upload.bin {BASE}/upload")
    )
    host.run("rm -f /var/tmp/upload.bin")
    assert result == {"bytes": size, "sha256": expected}


def container_started_at(host):
    (container,) = json.loads(host.check_output("docker inspect wandb-local"))
    return container["State"]["StartedAt"]


def test_settings_change_restarts_the_server_once(host):
    before = container_started_at(host)
    changed = run_playbook(extra_vars={"wandb_server_settings": {"LOGGING_ENABLED": True}})
    assert changed.returncode == 0, changed.tail()
    after_change = container_started_at(host)
    assert after_change != before, "the container was not recreated for a new setting"
    assert "LOGGING_ENABLED=true" in host.file("/etc/wandb/wandb.env").content_string

    again = run_playbook(extra_vars={"wandb_server_settings": {"LOGGING_ENABLED": True}})
    assert again.returncode == 0, again.tail()
    assert again.changed == {"all-in-one": 0}, again.tail()
    assert container_started_at(host) == after_change, "an unchanged run restarted the server"

    restored = run_playbook()
    assert restored.returncode == 0, restored.tail()
    assert "LOGGING_ENABLED" not in host.file("/etc/wandb/wandb.env").content_string
