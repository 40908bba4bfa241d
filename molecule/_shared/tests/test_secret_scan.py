"""Shared by every Molecule scenario that converges: no secret the run knows appears in what its
playbook runs printed. Molecule runs prepare, converge and the idempotence run at -vvv with --diff
and logs them to provisioner.log in the scenario's ephemeral directory (.config/molecule/config.yml);
the secrets are every file of the controller secrets directory plus every literal the scenario
passes in under a secret's name (inventory, playbooks)."""

import json
import os
import subprocess
from pathlib import Path

import yaml
from secret_scan import report, scan_lines, secrets_in_dir, secrets_in_vars


def _ephemeral():
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])


def _scenario_secrets():
    found = []
    secrets_dir = _ephemeral() / "wandb-secrets"
    if secrets_dir.is_dir():
        found += secrets_in_dir(secrets_dir)
    # --export: variables as written, not templated (a template's product is found where it is stored).
    inventory = subprocess.run(
        ["ansible-inventory", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--list", "--export"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "ANSIBLE_LOG_PATH": "/dev/null"},
    )
    found += secrets_in_vars(json.loads(inventory.stdout), "inventory")
    scenario = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
    for playbook in sorted(scenario.glob("*.yml")):
        if playbook.name != "molecule.yml":
            found += secrets_in_vars(yaml.safe_load(playbook.read_text()), playbook.name)
    return found


def assert_no_scenario_secret(outputs, at_vvv=False):
    """No secret of the scenario in the outputs of the runs a test made (at -vvv when asked)."""
    assert outputs, "no run was recorded"
    lines = "\n".join(outputs).splitlines()
    if at_vvv:
        assert any("ESTABLISH" in line for line in lines), "the runs were not at -vvv"
    findings = scan_lines(lines, _scenario_secrets())
    assert not findings, report(findings)


def test_no_secret_in_the_output_of_converge_and_idempotence():
    log = _ephemeral() / "provisioner.log"
    assert log.is_file(), f"{log} is missing: is ANSIBLE_LOG_PATH set in the Molecule provisioner env?"
    lines = log.read_text(errors="replace").splitlines()
    # The scan means something only if the runs were verbose and both converge runs are there.
    assert sum("PLAYBOOK: converge.yml" in line for line in lines) >= 2, "converge and idempotence are not both logged"
    assert any("ESTABLISH" in line for line in lines), "the runs were not at -vvv"
    secrets = _scenario_secrets()
    assert secrets, "the scenario knows no secret: nothing was scanned for"
    findings = scan_lines(lines, secrets)
    assert not findings, f"secrets in the output of {log}:\n{report(findings)}"
