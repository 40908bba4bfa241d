"""Docker runs inside a test host (wandb_local.fleet.docker), with the stand-in loaded from its archive."""

import json

testinfra_hosts = ["ansible://lab_docker"]


def test_daemon_configuration_rotates_logs(host):
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config["log-driver"] == "json-file"
    assert host.check_output("docker info --format '{{.LoggingDriver}}'") == "json-file"


def test_standin_container_runs_the_loaded_image(host):
    (container,) = json.loads(host.check_output("docker inspect wandb-standin"))
    assert container["State"]["Running"] is True
    assert container["Config"]["Image"] == "wandb-fleet-lab/wandb-standin:0.1.0"
    assert container["HostConfig"]["LogConfig"]["Config"] == {"max-file": "5", "max-size": "50m"}


def test_standin_healthz_through_docker_in_host(host):
    body = host.check_output("curl -fsS http://127.0.0.1:8080/healthz")
    assert json.loads(body) == {"status": "ok"}
