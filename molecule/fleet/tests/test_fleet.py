"""A fleet installation: W&B answers through the proxy with every tier reachable; the standby is
ready but not serving."""

import json

import proxy_contract
import pytest
from lab_playbook import lab_host, run_playbook
from proxy_contract import ProxySite

# Each test looks at the hosts it needs; run it once.
testinfra_hosts = ["ansible://fleet-proxy"]

CA = "/etc/haproxy/wandb-tls/ca.crt"


# The shared proxy checks, run here against HAProxy.
test_ready_through_the_proxy_with_every_tier = proxy_contract.test_ready_through_the_proxy_with_every_tier
test_http_redirects_to_https = proxy_contract.test_http_redirects_to_https
test_proxy_sets_forwarding_headers_and_hsts = proxy_contract.test_proxy_sets_forwarding_headers_and_hsts
test_websocket_upgrade_passes_the_proxy = proxy_contract.test_websocket_upgrade_passes_the_proxy
test_large_upload_passes_the_proxy = proxy_contract.test_large_upload_passes_the_proxy


@pytest.fixture
def proxy_site():
    return ProxySite(lab_host("fleet-proxy"), "fleet-proxy", CA)


def test_server_uses_tls_to_every_tier(host):
    app = lab_host("fleet-app1")
    lines = app.file("/etc/wandb/wandb.env").content_string.splitlines()
    env = dict(line.split("=", 1) for line in lines if "=" in line)
    assert "tls=custom" in env["MYSQL"]
    assert "ssl-ca=" in env["MYSQL"]
    assert "tls=true" in env["REDIS"]
    assert "tls=true" in env["BUCKET"]
    assert app.file("/etc/wandb/certs/ca.crt").exists


def test_standby_has_the_image_and_configuration_but_does_not_serve(host):
    active = lab_host("fleet-app1")
    standby = lab_host("fleet-app2")
    (container,) = json.loads(standby.check_output("docker inspect wandb-local"))
    assert container["State"]["Running"] is False
    (active_container,) = json.loads(active.check_output("docker inspect wandb-local"))
    assert container["Config"]["Image"] == active_container["Config"]["Image"]
    assert standby.file("/etc/wandb/wandb.env").content_string == active.file("/etc/wandb/wandb.env").content_string


def test_proxy_has_the_standby_as_backup(host):
    proxy = lab_host("fleet-proxy")
    config = proxy.file("/etc/haproxy/haproxy.cfg").content_string
    assert "server wandb1 fleet-app1:8080\n" in config
    assert "server wandb2 fleet-app2:8080 backup\n" in config
    # HAProxy's own view through its stats socket: the active server is up, the stopped standby down.
    stats = proxy.check_output(
        'python3 -c \'import socket; s = socket.socket(socket.AF_UNIX); s.connect("/var/lib/haproxy/admin.sock"); '
        's.sendall(b"show stat\\n"); print(s.makefile().read())\''
    )
    header, *rows = [line.split(",") for line in stats.lstrip("# ").splitlines() if line]
    status = {row[header.index("svname")]: row[header.index("status")] for row in rows if row[0] == "wandb_server"}
    assert status["wandb1"] == "UP", stats
    assert status["wandb2"].startswith("DOWN"), stats


def test_a_second_active_server_is_refused_before_anything_changes(host):
    standby = lab_host("fleet-app2")
    before = standby.file("/etc/wandb/wandb.env").sha256sum
    run = run_playbook("converge.yml", "--limit", "wandb_server", extra_vars={"wandb_server_standby": False})
    assert run.returncode != 0
    assert "Exactly one host of group 'wandb_server' may be active" in run.output
    assert standby.file("/etc/wandb/wandb.env").sha256sum == before
    (container,) = json.loads(standby.check_output("docker inspect wandb-local"))
    assert container["State"]["Running"] is False


def test_a_server_only_run_says_the_data_tier_must_run_too(host):
    active = lab_host("fleet-app1")
    before = active.file("/etc/wandb/wandb.env").sha256sum
    run = run_playbook("converge.yml", "--limit", "wandb_server")
    assert run.returncode != 0
    assert "wandb_mysql:fleet-mysql, wandb_redis:fleet-redis, wandb_minio:fleet-minio did not run" in run.output
    assert "--limit 'wandb_server,wandb_mysql,wandb_redis,wandb_minio'" in run.output
    assert active.file("/etc/wandb/wandb.env").sha256sum == before
