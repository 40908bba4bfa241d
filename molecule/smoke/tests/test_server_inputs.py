"""The server role checks HOST and wandb_server_settings by the settings module's own rules: a
value the module would refuse stops the run in validation, naming the variable, with no change."""

from lab_playbook import run_playbook

testinfra_hosts = ["ansible://lab_docker"]


def _assert_stopped_before_anything(host, run):
    assert run.returncode != 0, run.tail()
    assert run.changed == {"lab-smoke-docker": 0}, run.tail()
    assert "TASK [wandb_local.fleet.server : Make the server image present" not in run.output
    assert not host.file("/etc/wandb").exists
    assert host.run("docker inspect wandb-local").rc != 0


def test_a_host_url_with_a_path_is_refused(host):
    # The role's old pattern let the trailing '/' through; the settings module refuses it.
    run = run_playbook("server-inputs.yml", extra_vars={"wandb_server_host_url": "https://wandb.example.net/"})
    assert (
        "wandb_server_host_url: must be SCHEME://HOST[:PORT] with no path, got 'https://wandb.example.net/'"
        in run.output
    ), run.tail()
    _assert_stopped_before_anything(host, run)


def test_settings_the_module_refuses_are_refused_without_their_secrets(host):
    run = run_playbook(
        "server-inputs.yml",
        extra_vars={
            "wandb_server_host_url": "https://wandb.example.net",
            "wandb_server_settings": {"OIDC_ISSUER": "http://idp.example.net", "SLACK_SECRET": "smoke secret value"},
        },
    )
    assert "wandb_server_settings.OIDC_ISSUER: must be an https:// URL" in run.output, run.tail()
    assert "wandb_server_settings.SLACK_SECRET: must be a single word without spaces" in run.output, run.tail()
    assert "smoke secret value" not in run.output
    _assert_stopped_before_anything(host, run)
