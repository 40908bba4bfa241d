"""A second host reaches the stand-in across the lab network."""

import json

testinfra_hosts = ["ansible://lab_peer"]


def test_peer_reaches_standin_across_lab_network(host):
    version = json.loads(host.check_output("curl -fsS http://lab-smoke-docker:8080/version"))
    assert version == {"standin": "true", "version": "0.1.0"}
