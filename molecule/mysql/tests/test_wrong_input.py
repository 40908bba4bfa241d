"""A wrong input stops the run before anything changes, with a message naming the variable, and no
secret reaches the output, even at -vvv."""

import pytest
from conftest import CONFIG_FILE, ephemeral_dir
from lab_playbook import run_playbook


def host_state(lab):
    """What a run that changed the server would change: its configuration and its start time."""
    return {
        name: (
            host.file(CONFIG_FILE).sha256sum,
            host.check_output("systemctl show --property=ExecMainStartTimestamp --value mysql"),
        )
        for name, host in lab.items()
    }


def controller_secrets():
    return [path.read_text().split()[0] for path in (ephemeral_dir() / "wandb-secrets" / "mysql").iterdir()]


MARKER = "Given-Secret-7f3a9c"

CASES = {
    "empty W&B password": ({"wandb_mysql_wandb_password": ""}, "wandb_mysql_wandb_password must not be empty"),
    "replica without primary": (
        {"wandb_mysql_replication_primary": ""},
        "needs wandb_mysql_replication_primary",
    ),
    "two primaries": ({"wandb_mysql_replication_role": "primary"}, "at most one host of the group"),
    "a host name MySQL would never match": (
        {"wandb_mysql_wandb_user_host": "app.example.net"},
        "wandb_mysql_wandb_user_host: a host name, which MySQL never matches",
    ),
    # A valid, given password rides along: its own check passes at -vvv and must not show it.
    "bad port": ({"wandb_mysql_port": 70000, "wandb_mysql_wandb_password": MARKER}, "wandb_mysql_port must be from 1"),
}


# A --check run validates its inputs as a real run does: the preview fails with the same message.
@pytest.mark.parametrize("mode", ["run", "check"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_wrong_input_stops_the_run_and_changes_nothing(lab, case, mode):
    extra_vars, message = CASES[case]
    before = host_state(lab)
    run = run_playbook("converge.yml", "-vvv", *(["--check"] if mode == "check" else []), extra_vars=extra_vars)
    assert run.returncode != 0, f"the run did not fail:\n{run.tail()}"
    assert message in " ".join(run.output.split()), f"no {message!r} in:\n{run.tail()}"
    assert not any(run.changed.values()), f"changes were made: {run.changed}\n{run.tail()}"
    # No host goes on alone when another one's input is wrong (the replica's, for example).
    assert "Gather the facts the role needs" not in run.output, run.tail()
    assert host_state(lab) == before
    for value in [MARKER, *controller_secrets()]:
        assert value not in run.output, "a secret is in the output"


def test_no_secret_in_verbose_output_of_a_full_run():
    # --check walks every task of a converged host, including those that handle the passwords.
    run = run_playbook("converge.yml", "--check", "-vvv")
    assert run.returncode == 0, run.tail()
    assert not any(run.changed.values()), run.tail()
    for value in controller_secrets():
        assert value not in run.output, "a secret is in the output"
