"""The publish entry point, run on the primary for the replica (wandb_mysql_publish_host), as the
server wiring publishes a MySQL host whose play did not run: it changes nothing on any host, and
sets the endpoint converge published; a wrong input stops it with a message naming the input."""

import json

import pytest
from conftest import REPLICA, ephemeral_dir
from lab_playbook import run_playbook


def controller_secrets():
    return [path.read_text().split()[0] for path in (ephemeral_dir() / "wandb-secrets" / "mysql").iterdir()]


def test_the_entry_point_publishes_what_converge_did_and_changes_nothing(endpoints):
    handed_over = ephemeral_dir() / f"delegated-endpoint-{REPLICA}.json"
    handed_over.unlink(missing_ok=True)
    run = run_playbook("publish.yml")
    assert run.returncode == 0, f"the publish entry point failed:\n{run.tail()}"
    assert run.changed, f"no PLAY RECAP in the output:\n{run.tail()}"
    assert not any(run.changed.values()), f"the publish entry point changed something: {run.changed}"
    # Compared without printing them: the endpoints hold the W&B account's password.
    same = json.loads(handed_over.read_text()) == endpoints[REPLICA]
    assert same, f"the endpoint published for {REPLICA} from the primary differs from the one converge published"


@pytest.mark.parametrize(
    "extra_vars, message",
    [
        ({"wandb_mysql_publish_host": "nowhere"}, "wandb_mysql_publish_host must be the inventory name of a MySQL"),
        ({"wandb_mysql_port": 0}, "wandb_mysql_port of mysql-replica must be a port number from 1 to 65535, got 0"),
        ({"wandb_mysql_tls_mode": "on"}, "value of wandb_mysql_tls_mode must be one of: off, given, lab_ca, got: on"),
    ],
)
def test_a_wrong_input_stops_the_entry_point_naming_it(extra_vars, message):
    run = run_playbook("publish.yml", "-vvv", extra_vars=extra_vars)
    assert run.returncode != 0, f"the run did not fail:\n{run.tail()}"
    assert message in " ".join(run.output.split()), f"no {message!r} in:\n{run.tail()}"
    assert not any(run.changed.values()), f"changes were made: {run.changed}"
    for value in controller_secrets():
        assert value not in run.output, "a secret is in the output"
