"""Docker runs inside a test host, with the stand-in loaded from its archive."""

import json

testinfra_hosts = ["ansible://lab_docker"]


def test_standin_container_runs_the_loaded_image(host):
    (container,) = json.loads(host.check_output("docker inspect wandb-standin"))
    assert container["State"]["Running"] is True
    assert container["Config"]["Image"] == "wandb-fleet-lab/wandb-standin:0.1.0"


def test_standin_healthz_through_docker_in_host(host):
    body = host.check_output("curl -fsS http://127.0.0.1:8080/healthz")
    assert json.loads(body) == {"status": "ok"}
