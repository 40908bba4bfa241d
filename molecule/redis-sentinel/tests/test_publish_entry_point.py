"""The publish entry point, run on one host for another (wandb_redis_publish_host) in a play that
is not the one that ran the role, as the server wiring publishes a Redis host whose play did not
run: it changes nothing on any host and sets the endpoint converge published (the first sentinel
of wandb_redis_group, not of this play); a wrong input stops it with a message naming the input.

Runs before test_sentinel_failover.py, which changes the password."""

import json
import os
from pathlib import Path

import pytest
from lab_playbook import run_playbook
from redis_lab import HOSTS

from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import check_endpoint

PUBLISHED_FOR = HOSTS[1]


def ephemeral_dir():
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])


def controller_secrets():
    return [path.read_text().split()[0] for path in (ephemeral_dir() / "wandb-secrets" / "redis").iterdir()]


def test_the_entry_point_publishes_what_converge_did_and_changes_nothing():
    handed_over = ephemeral_dir() / f"delegated-endpoint-{PUBLISHED_FOR}.json"
    handed_over.unlink(missing_ok=True)
    run = run_playbook("publish.yml")
    assert run.returncode == 0, f"the publish entry point failed:\n{run.tail()}"
    assert run.changed, f"no PLAY RECAP in the output:\n{run.tail()}"
    assert not any(run.changed.values()), f"the publish entry point changed something: {run.changed}"
    delegated = check_endpoint("redis", json.loads(handed_over.read_text()))
    converged = json.loads((ephemeral_dir() / f"endpoint-{PUBLISHED_FOR}.json").read_text())
    # Compared without printing them: the endpoints hold the password.
    same = delegated == converged
    assert same, f"the endpoint published for {PUBLISHED_FOR} from {HOSTS[2]} differs from the one converge published"


@pytest.mark.parametrize(
    "extra_vars, message",
    [
        ({"wandb_redis_publish_host": "nowhere"}, "wandb_redis_publish_host must be the inventory name of a Redis"),
        (
            {"wandb_redis_sentinel_port": 0},
            "wandb_redis_sentinel_port of redis-sentinel-2 must be a port number from 1 to 65535, got 0",
        ),
        ({"wandb_redis_group": "nobody"}, "wandb_redis_sentinels of redis-sentinel-2 must be a non-empty list"),
    ],
)
def test_a_wrong_input_stops_the_entry_point_naming_it(extra_vars, message):
    run = run_playbook("publish.yml", "-vvv", extra_vars=extra_vars)
    assert run.returncode != 0, f"the run did not fail:\n{run.tail()}"
    assert message in " ".join(run.output.split()), f"no {message!r} in:\n{run.tail()}"
    assert not any(run.changed.values()), f"changes were made: {run.changed}"
    for value in controller_secrets():
        assert value not in run.output, "a secret is in the output"
