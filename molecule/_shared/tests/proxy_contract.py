"""What W&B needs from its TLS proxy, checked the same way for nginx and HAProxy.

A scenario takes the tests it wants (by assignment: ansible-test's pylint refuses unused
imports) and defines a `proxy_site` fixture naming the host the requests are made from (the
proxy itself), the name the certificate carries and its CA file:

    import proxy_contract
    test_http_redirects_to_https = proxy_contract.test_http_redirects_to_https

    @pytest.fixture
    def proxy_site(host):
        return ProxySite(host, "fleet-proxy", "/etc/haproxy/wandb-tls/ca.crt")
"""

import json
from dataclasses import dataclass


@dataclass
class ProxySite:
    host: object  # testinfra host the requests are made from
    name: str  # the name W&B is reached at
    ca: str  # CA file on that host

    @property
    def base(self):
        return f"https://{self.name}"


def test_ready_through_the_proxy_with_every_tier(proxy_site):
    body = json.loads(
        proxy_site.host.check_output(f"curl -sS --fail-with-body --cacert {proxy_site.ca} {proxy_site.base}/ready")
    )
    assert body["status"] == "ready", body
    assert body["version"] == "0.1.0"
    assert {name: body["checks"].get(name) for name in ("mysql", "bucket", "redis")} == {
        "mysql": "ok",
        "bucket": "ok",
        "redis": "ok",
    }


def test_http_redirects_to_https(proxy_site):
    headers = proxy_site.host.check_output(f"curl -sS -o /dev/null -D - http://{proxy_site.name}/some/path?x=1")
    assert "301" in headers.splitlines()[0]
    assert f"location: {proxy_site.base}/some/path?x=1" in headers.lower()


def test_proxy_sets_forwarding_headers_and_hsts(proxy_site):
    response = proxy_site.host.check_output(
        f"curl -sS -D /dev/stderr --cacert {proxy_site.ca} {proxy_site.base}/headers 2>&1"
    )
    assert "strict-transport-security: max-age=31536000" in response.lower()
    echoed = json.loads(response[response.index("{") :])
    assert echoed["Host"] == proxy_site.name
    assert echoed["X-Forwarded-Proto"] == "https"
    assert echoed["X-Forwarded-Host"] == proxy_site.name
    assert echoed["X-Forwarded-Port"] == "443"
    assert echoed["X-Forwarded-For"]


WEBSOCKET_CLIENT = r"""
import base64, os, socket, ssl, sys
cafile, name = sys.argv[1], sys.argv[2]
context = ssl.create_default_context(cafile=cafile)
with socket.create_connection((name, 443), timeout=10) as raw:
    with context.wrap_socket(raw, server_hostname=name) as tls:
        key = base64.b64encode(os.urandom(16)).decode()
        tls.sendall((f"GET /ws HTTP/1.1\r\nHost: {name}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
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


def test_websocket_upgrade_passes_the_proxy(proxy_site):
    host = proxy_site.host
    host.check_output("cat > /tmp/ws_client.py <<'PYEOF'\n%s\nPYEOF" % WEBSOCKET_CLIENT)
    status, echoed = host.check_output(f"python3 /tmp/ws_client.py {proxy_site.ca} {proxy_site.name}").splitlines()
    assert status == "HTTP/1.1 101 Switching Protocols"
    assert echoed == "hello through the proxy"


def test_large_upload_passes_the_proxy(proxy_site):
    host = proxy_site.host
    size = 256 * 1024 * 1024  # beyond any default body cap (nginx: 1 MiB)
    host.check_output(f"head -c {size} /dev/urandom > /var/tmp/upload.bin")
    expected = host.check_output("sha256sum /var/tmp/upload.bin").split()[0]
    upload = f"curl -sS --fail-with-body --cacert {proxy_site.ca} --data-binary @/var/tmp/upload.bin"
    result = json.loads(host.check_output(f"{upload} {proxy_site.base}/upload"))
    host.run("rm -f /var/tmp/upload.bin")
    assert result == {"bytes": size, "sha256": expected}
