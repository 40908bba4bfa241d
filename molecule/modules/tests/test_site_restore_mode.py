"""site.yml on a server in restore mode (issue 12): a scheduled drift-correcting run must not end
an operator's factory reset. The real site.yml deploys the server role onto this scenario's Docker
host (an extra inventory puts it in wandb_server), the restore-mode playbook enters restore mode,
and then site.yml --check --diff, site.yml, site.yml with the env file edited back by hand, and
site.yml -e wandb_server_leave_restore_mode=true run as an operator would. At the end the
scenario's own container (converge.yml) is put back, so the other tests find what they expect."""

import json

import pytest
import yaml
from lab_playbook import run_playbook

testinfra_hosts = ["ansible://lab_docker"]

HOST = "lab-modules-docker"
SITE = "../../playbooks/site.yml"
RESTORE = "../../playbooks/restore_mode.yml"
ENV_FILE = "/etc/wandb/wandb.env"
CREDENTIALS = "/root/wandb-restore-credentials.yml"
LICENSE = "lab-license-site-restore-not-real"
SLACK_SECRET = "lab-slack-secret-site-restore"  # noqa: S105 (a lab value the test looks for)
SERVER_VARS = {
    "wandb_server_host_url": f"http://{HOST}:8080",
    "wandb_server_license": LICENSE,
    "wandb_server_settings": {"SLACK_CLIENT_ID": "lab-slack-client", "SLACK_SECRET": SLACK_SECRET},
    "wandb_server_ready_timeout": 120,
    "wandb_server_ready_poll_interval": 2,
}


def inspect(host):
    (container,) = json.loads(host.check_output("docker inspect wandb-local"))
    return container


def file_lines(host):
    return host.file(ENV_FILE).content_string.splitlines()


@pytest.fixture
def site(host, tmp_path):
    """A runner for site.yml with this host in wandb_server; puts the scenario back afterwards."""
    saved = host.file(ENV_FILE).content_string
    inventory = tmp_path / "server.yml"
    inventory.write_text(yaml.safe_dump({"wandb_server": {"hosts": {HOST: SERVER_VARS}}}))

    def run(*args, extra_vars=None):
        return run_playbook(SITE, "-i", str(inventory), *args, extra_vars=extra_vars)

    yield run
    host.run(f"rm -f {CREDENTIALS}")
    # Back to the scenario's own environment and container (converge recreates it from them).
    host.run(f"cat > {ENV_FILE} <<'LAB_EOF'\n{saved}LAB_EOF")
    back = run_playbook("converge.yml")
    assert back.returncode == 0, back.tail()


def assert_no_secret(run, *secrets):
    for secret in secrets:
        assert secret not in run.output, "a secret reached the output"


def test_site_keeps_restore_mode_until_asked_to_leave_it(host, site):
    host.run(f"rm -f {CREDENTIALS}")
    deployed = site()
    assert deployed.returncode == 0, deployed.tail()
    assert "Restore mode is ON" not in deployed.output

    entered = run_playbook(RESTORE, extra_vars={"wandb_restore_mode_hosts": HOST, "wandb_restore_mode_timeout": 120})
    assert entered.returncode == 0, entered.tail()
    in_restore = inspect(host)
    assert "LOCAL_RESTORE=true" in in_restore["Config"]["Env"]
    password = yaml.safe_load(host.file(CREDENTIALS).content_string)["password"]

    # What a new user tries first: the preview. No change to LOCAL_RESTORE, no recreate.
    preview = site("--check", "--diff", "-vvv")
    assert preview.returncode == 0, preview.tail()
    assert preview.changed[HOST] == 0, preview.tail()
    assert "-LOCAL_RESTORE" not in preview.output
    assert "Restore mode is ON on " + HOST in preview.output
    assert "wandb_server_leave_restore_mode=true" in preview.output
    assert_no_secret(preview, password, LICENSE, SLACK_SECRET)

    # The scheduled run itself: restore mode and the temporary login stay.
    kept = site("-vvv")
    assert kept.returncode == 0, kept.tail()
    assert kept.changed[HOST] == 0, kept.tail()
    assert inspect(host)["Id"] == in_restore["Id"], "the container was not recreated"
    assert "LOCAL_RESTORE=true" in file_lines(host)
    assert host.file(CREDENTIALS).exists
    assert "Restore mode is ON on " + HOST in kept.output
    assert_no_secret(kept, password, LICENSE, SLACK_SECRET)

    # The running container is what counts: a file edited back by hand gets the variable again,
    # and the container is left alone.
    host.run_expect([0], f"sed -i '/^LOCAL_RESTORE=/d' {ENV_FILE}")
    caught_up = site()
    assert caught_up.returncode == 0, caught_up.tail()
    assert caught_up.changed[HOST] == 1, "only the environment file: " + caught_up.tail()
    assert "LOCAL_RESTORE=true" in file_lines(host)
    assert inspect(host)["Id"] == in_restore["Id"], "the container was not recreated"
    assert "in the running container" in caught_up.output

    # Asked to leave: SSO on again, the container without LOCAL_RESTORE, the credentials gone.
    left = site("-vvv", extra_vars={"wandb_server_leave_restore_mode": True})
    assert left.returncode == 0, left.tail()
    out_of_restore = inspect(host)
    assert out_of_restore["Id"] != in_restore["Id"]
    assert not any(item.startswith("LOCAL_RESTORE=") for item in out_of_restore["Config"]["Env"])
    assert not any(line.startswith("LOCAL_RESTORE=") for line in file_lines(host))
    assert not host.file(CREDENTIALS).exists
    assert "Restore mode is OFF on " + HOST in left.output
    assert_no_secret(left, password, LICENSE, SLACK_SECRET)

    again = site()
    assert again.returncode == 0, again.tail()
    assert again.changed[HOST] == 0, again.tail()
    assert "Restore mode is O" not in again.output
