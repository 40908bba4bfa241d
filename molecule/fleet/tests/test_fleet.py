"""A fleet installation: W&B answers through the proxy with every tier reachable; the standby is
ready but not serving."""

import json

from lab_playbook import lab_host, run_playbook

# Each test looks at the hosts it needs; run it once.
testinfra_hosts = ["ansible://fleet-proxy"]

CA = "/etc/nginx/wandb-tls/ca.crt"


def test_ready_through_the_proxy_with_every_tier(host):
    proxy = lab_host("fleet-proxy")
    body = json.loads(proxy.check_output(f"curl -sS --fail-with-body --cacert {CA} https://fleet-proxy/ready"))
    assert body["status"] == "ready", body
    assert {name: body["checks"][name] for name in ("mysql", "bucket", "redis")} == {
        "mysql": "ok",
        "bucket": "ok",
        "redis": "ok",
    }


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
    site = proxy.file("/etc/nginx/conf.d/wandb.conf").content_string
    assert "server fleet-app1:8080 max_fails" in site
    assert "server fleet-app2:8080 backup" in site


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
