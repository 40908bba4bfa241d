"""A fleet installation: W&B answers through the proxy with every tier reachable; the standby is
ready but not serving."""

import json

import proxy_contract
import pytest
from endpoint_contract import published_endpoints
from lab_playbook import lab_host, run_playbook
from proxy_contract import ProxySite
from secret_scan import report, scan_lines
from test_secret_scan import _scenario_secrets

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_env_file import EnvFile

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


def test_a_server_only_run_converges_with_no_change_on_any_host(host):
    """--limit wandb_server: the data tier and the proxy publish through their entry points, from
    the inventory and the controller's secrets, and the servers come out exactly as they are."""
    files = {"fleet-app1": "/etc/wandb/wandb.env", "fleet-app2": "/etc/wandb/wandb.env"}
    before = {name: lab_host(name).file(path).sha256sum for name, path in files.items()}
    (container,) = json.loads(lab_host("fleet-app1").check_output("docker inspect wandb-local"))
    secrets = _scenario_secrets()
    for args in (["--limit", "wandb_server"], ["--limit", "wandb_server", "--check"]):
        # As verbose as AWX may be: the delegated publishing handles every tier's credentials.
        run = run_playbook("converge.yml", *args, "-vvv", "--diff")
        assert run.returncode == 0, run.tail()
        findings = scan_lines(run.output.splitlines(), secrets)
        assert not findings, report(findings)
        assert set(run.changed) == {"fleet-app1", "fleet-app2"}, run.tail()
        assert all(count == 0 for count in run.changed.values()), run.tail()
        # The data-tier hosts were only published for, never contacted by a task of theirs.
        for name in ("fleet-mysql", "fleet-redis", "fleet-minio", "fleet-proxy"):
            assert f"[{name}]" not in run.output.replace(f"-> {name}]", "]"), run.tail()
    assert {name: lab_host(name).file(path).sha256sum for name, path in files.items()} == before
    (again,) = json.loads(lab_host("fleet-app1").check_output("docker inspect wandb-local"))
    assert again["Id"] == container["Id"] and again["State"]["StartedAt"] == container["State"]["StartedAt"]


def test_every_tier_publishes_one_endpoint_of_the_contracts_shape():
    expected = {
        "fleet-mysql": {"wandb_mysql_endpoint"},
        "fleet-redis": {"wandb_redis_endpoint"},
        "fleet-minio": {"wandb_minio_endpoint"},
        "fleet-app1": {"wandb_server_endpoint"},
        "fleet-app2": {"wandb_server_endpoint"},
        "fleet-proxy": {"wandb_proxy_endpoint"},
    }
    assert {name: set(published_endpoints(name)) for name in expected} == expected


def test_the_server_environment_is_the_merge_of_the_published_env():
    tiers = {
        "fleet-mysql": "wandb_mysql_endpoint",
        "fleet-redis": "wandb_redis_endpoint",
        "fleet-minio": "wandb_minio_endpoint",
    }
    wanted = {}
    for name, fact in tiers.items():
        wanted.update(published_endpoints(name)[fact]["env"])
    wanted["HOST"] = published_endpoints("fleet-proxy")["wandb_proxy_endpoint"]["env"]["HOST"]
    assert wanted["HOST"] == "https://fleet-proxy"
    env = EnvFile.parse(lab_host("fleet-app1").file("/etc/wandb/wandb.env").content_string).values()
    # Compared by name only in the message: the values are credentials.
    differing = sorted(name for name, value in wanted.items() if env.get(name) != value)
    assert not differing, f"the server's environment differs from the published endpoints in {differing}"
