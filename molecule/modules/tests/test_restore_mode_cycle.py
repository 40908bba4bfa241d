"""The full restore cycle with playbooks/restore_mode.yml against the running stand-in: enable,
credentials on the host, idempotent second run, disable (credentials file deleted), /ready; then
converge finds nothing to change, which proves the recreated container is what docker_container itself would run."""

import json

import yaml
from lab_playbook import run_playbook

testinfra_hosts = ["ansible://lab_docker"]

PLAYBOOK = "../../playbooks/restore_mode.yml"
CREDENTIALS = "/root/wandb-restore-credentials.yml"
TARGET = {"wandb_restore_mode_hosts": "lab_docker", "wandb_restore_mode_timeout": 120}


def inspect(host):
    (container,) = json.loads(host.check_output("docker inspect wandb-local"))
    return container


def lasting_config(container):
    """What must survive a recreate unchanged: everything but the environment and the identity."""
    config = dict(container["Config"])
    config.pop("Env")
    config.pop("Hostname", None)
    host_config = container["HostConfig"]
    networks = container["NetworkSettings"]["Networks"]
    return {
        "config": config,
        "binds": host_config["Binds"],
        "ports": host_config["PortBindings"],
        "restart": host_config["RestartPolicy"],
        "network_mode": host_config["NetworkMode"],
        "networks": {
            name: sorted(set(net.get("Aliases") or []) - {container["Id"][:12]}) for name, net in networks.items()
        },
    }


def test_full_restore_cycle(host):
    host.run(f"rm -f {CREDENTIALS}")
    original = inspect(host)
    assert "LOCAL_RESTORE=true" not in original["Config"]["Env"]

    enabled = run_playbook(PLAYBOOK, extra_vars=TARGET)
    assert enabled.returncode == 0, enabled.tail()
    assert enabled.changed["lab-modules-docker"] >= 1
    restored = inspect(host)
    assert restored["Id"] != original["Id"], "the container was recreated"
    assert "LOCAL_RESTORE=true" in restored["Config"]["Env"]
    assert "LOCAL_RESTORE=true" in host.file("/etc/wandb/wandb.env").content_string.splitlines()
    assert lasting_config(restored) == lasting_config(original)

    credentials_file = host.file(CREDENTIALS)
    assert credentials_file.mode == 0o600
    credentials = yaml.safe_load(credentials_file.content_string)
    assert credentials["username"] == "restore@wandb.com"
    assert len(credentials["password"]) == 20
    logs = host.check_output("docker logs wandb-local 2>&1")
    assert f"username: restore@wandb.com password: {credentials['password']}" in logs
    assert credentials["password"] not in enabled.output, "the play says where the credentials are, not what"
    assert CREDENTIALS in enabled.output

    again = run_playbook(PLAYBOOK, extra_vars=TARGET)
    assert again.returncode == 0, again.tail()
    assert again.changed["lab-modules-docker"] == 0
    assert "Restore mode was found enabled" in again.output
    assert inspect(host)["Id"] == restored["Id"]
    assert yaml.safe_load(host.file(CREDENTIALS).content_string) == credentials

    disabled = run_playbook(PLAYBOOK, extra_vars={**TARGET, "wandb_restore_mode_state": "disabled"})
    assert disabled.returncode == 0, disabled.tail()
    assert "answered 200" in disabled.output
    assert not host.file(CREDENTIALS).exists, "leaving restore mode deletes the credentials file"
    assert f"The credentials file {CREDENTIALS} was deleted" in disabled.output
    back = inspect(host)
    assert not any(item.startswith("LOCAL_RESTORE=") for item in back["Config"]["Env"])
    assert sorted(back["Config"]["Env"]) == sorted(original["Config"]["Env"])
    assert lasting_config(back) == lasting_config(original)
    ready = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/ready')"
    assert host.run(f'python3 -c "{ready}"').rc == 0

    still_off = run_playbook(PLAYBOOK, extra_vars={**TARGET, "wandb_restore_mode_state": "disabled"})
    assert still_off.returncode == 0, still_off.tail()
    assert still_off.changed["lab-modules-docker"] == 0

    converge = run_playbook("converge.yml")
    assert converge.returncode == 0, converge.tail()
    unchanged = converge.changed["lab-modules-docker"] == 0
    assert unchanged, "docker_container wants to change the recreated container:\n" + converge.tail()
    host.run(f"rm -f {CREDENTIALS}")
