"""wandb_local.fleet.settings on the lab host, after converge wrote the server's environment."""

import re

from lab_playbook import run_playbook

testinfra_hosts = ["ansible://lab_docker"]

ENV_FILE = "/etc/wandb/wandb.env"


def test_converge_wrote_a_private_env_file_docker_reads(host):
    env_file = host.file(ENV_FILE)
    assert env_file.mode == 0o600
    assert env_file.user == "root"
    lines = env_file.content_string.splitlines()
    assert lines[0].startswith("# W&B server environment")
    assert "LOGGING_ENABLED=true" in lines
    assert "LICENSE=lab-license-not-a-real-one" in lines
    assert all(re.match(r"^(#.*|[A-Z_][A-Z0-9_]*=\S*)$", line) for line in lines), lines
    env = host.check_output("docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' wandb-local")
    assert "GORILLA_LAB_MARKER=converge" in env.splitlines()


def test_change_repeat_refuse_preview(host):
    before = host.file(ENV_FILE).content_string
    run = run_playbook("exercise-settings.yml")
    assert run.returncode == 0, run.tail()
    assert host.file(ENV_FILE).content_string == before
    # Secrets stay out of the playbook output at the verbosity operators use.
    for secret in ("lab-license-not-a-real-one", "lab-slack-secret-value"):
        assert secret not in run.output
