"""A second host reaches the stand-in across the lab network."""

import json
import re

testinfra_hosts = ["ansible://lab_peer"]


def test_peer_reaches_standin_across_lab_network(host):
    version = json.loads(host.check_output("curl -fsS http://lab-smoke-docker:8080/version"))
    # The stand-in also reports its session key's fingerprint (written under /vol/env at first start).
    fingerprint = version.pop("session_key", "")
    assert version == {"standin": "true", "version": "0.1.0"}
    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint), fingerprint
