# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The issued_certificate lookup as Ansible calls it, and against what community.crypto really writes: the
secrets role's `certificate` entry point run by ansible-playbook on a local host, and the role's controller
blocks run without their condition, so the modules themselves say whether they would change anything."""

from __future__ import annotations

import copy
import grp
import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleLookupError

from ansible_collections.wandb_local.fleet.plugins.lookup.issued_certificate import LookupModule

TASKS = Path(__file__).resolve().parents[4] / "roles" / "secrets" / "tasks"
SANS = ["DNS:fleet-mysql", "IP:127.0.0.1"]
CA_NAME = "wandb_local.fleet CA"


@pytest.fixture
def lookup():
    return LookupModule()


def test_an_empty_secrets_directory_needs_everything(lookup, tmp_path):
    reasons = lookup.run(["ca"], variables={}, secrets_dir=str(tmp_path), common_name=CA_NAME)
    assert reasons == ["%s: does not exist" % (tmp_path / "ca" / name) for name in ("", "ca.key", "ca.crt")]
    reasons = lookup.run(
        ["certificate"], variables={}, secrets_dir=str(tmp_path), host="db1", name="mysql", subject_alt_names=SANS
    )
    assert reasons[0] == "%s: does not exist" % (tmp_path / "certs" / "db1")
    assert "%s: does not exist" % (tmp_path / "ca" / "ca.crt") in reasons


def test_wrong_calls_are_errors(lookup, tmp_path):
    with pytest.raises(AnsibleLookupError, match="give one term, 'certificate' or 'ca'"):
        lookup.run(["leaf"], variables={}, secrets_dir=str(tmp_path))
    with pytest.raises(AnsibleLookupError, match="give one term"):
        lookup.run(["ca", "certificate"], variables={}, secrets_dir=str(tmp_path))
    with pytest.raises(AnsibleLookupError, match="unknown option host for ca"):
        lookup.run(["ca"], variables={}, secrets_dir=str(tmp_path), common_name=CA_NAME, host="db1")
    with pytest.raises(AnsibleLookupError, match="secrets_dir"):
        lookup.run(["ca"], variables={}, common_name=CA_NAME)
    with pytest.raises(AnsibleLookupError, match="common_name"):
        lookup.run(["ca"], variables={}, secrets_dir=str(tmp_path))
    with pytest.raises(AnsibleLookupError, match="subject_alt_names"):
        lookup.run(["certificate"], variables={}, secrets_dir=str(tmp_path), host="db1", name="mysql")


def test_a_failure_of_the_check_itself_is_a_reason(lookup, tmp_path, monkeypatch):
    from ansible_collections.wandb_local.fleet.plugins.lookup import issued_certificate

    def broken(*_args):
        raise RuntimeError("a message that could quote a file")

    monkeypatch.setattr(issued_certificate, "ca_reasons", broken)
    reasons = lookup.run(["ca"], variables={}, secrets_dir=str(tmp_path), common_name=CA_NAME)
    assert reasons == ["%s: the check failed (RuntimeError); the modules decide" % tmp_path]


# --- ansible-playbook on a local host --------------------------------------------------------------------------------


def _block(tasks_file, name):
    """The role's controller block, without its condition: the modules run and say what they would change."""
    for task in yaml.safe_load((TASKS / tasks_file).read_text()):
        if task.get("name") == name and "block" in task:
            block = copy.deepcopy(task)
            block.pop("when")
            return block
    raise AssertionError("%s has no block %r" % (tasks_file, name))


class Site:
    """A secrets directory and an install directory in tmp_path, and a play on a local host `db1`."""

    def __init__(self, root):
        self.root = root
        self.secrets_dir = root / "fleet.secrets"
        self.cert_dir = root / "installed"
        (root / "inventory.ini").write_text(
            "db1 ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable
        )
        # The entry point as roles/mysql/tasks/tls.yml includes it.
        role_play = [
            {
                "hosts": "db1",
                "gather_facts": False,
                "tasks": [
                    {
                        "name": "Issue and install a certificate from the controller CA",
                        "ansible.builtin.include_role": {
                            "name": "wandb_local.fleet.secrets",
                            "tasks_from": "certificate",
                        },
                        "vars": {
                            "wandb_secrets_cert_name": "mysql",
                            "wandb_secrets_cert_subject_alt_names": "{{ sans }}",
                            "wandb_secrets_cert_dir": str(self.cert_dir),
                            "wandb_secrets_cert_owner": pwd.getpwuid(os.getuid()).pw_name,
                            "wandb_secrets_cert_group": grp.getgrgid(os.getgid()).gr_name,
                        },
                    }
                ],
            }
        ]
        (root / "role.yml").write_text(yaml.safe_dump(role_play))
        # The two controller blocks, always run, with the variables the role would give them.
        blocks_play = [
            {
                "hosts": "db1",
                "gather_facts": False,
                "vars": {
                    "wandb_secrets_ca_common_name": CA_NAME,
                    "wandb_secrets_ca_valid_days": 3650,
                    "wandb_secrets_cert_valid_days": 825,
                    "wandb_secrets_cert_name": "mysql",
                    "wandb_secrets_cert_subject_alt_names": "{{ sans }}",
                },
                "tasks": [
                    _block("ca.yml", "Create the controller CA"),
                    _block("certificate.yml", "Issue the certificate on the controller"),
                ],
            }
        ]
        (root / "blocks.yml").write_text(yaml.safe_dump(blocks_play))

    def run(self, playbook, sans):
        env = dict(
            os.environ,
            ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            ANSIBLE_ROLES_PATH=str(self.root / "no-roles"),
        )
        proc = subprocess.run(
            [
                str(Path(sys.executable).with_name("ansible-playbook")),
                "-i",
                str(self.root / "inventory.ini"),
                str(self.root / playbook),
                "-e",
                json.dumps({"wandb_secrets_dir": str(self.secrets_dir), "sans": sans}),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
        return Run(json.loads(proc.stdout))

    def reasons(self, sans):
        lookup = LookupModule()
        return lookup.run(["ca"], variables={}, secrets_dir=str(self.secrets_dir), common_name=CA_NAME) + lookup.run(
            ["certificate"],
            variables={},
            secrets_dir=str(self.secrets_dir),
            host="db1",
            name="mysql",
            subject_alt_names=sans,
        )


class Run:
    """ansible.posix.json's output: each task's result for db1 (or the controller it was delegated to)."""

    def __init__(self, output):
        self.stats = output["stats"]
        self.results = {}
        for play in output["plays"]:
            for task in play["tasks"]:
                for result in task["hosts"].values():
                    # "wandb_local.fleet.secrets : Generate the private key" -> "Generate the private key"
                    self.results.setdefault(task["task"]["name"].split(" : ", 1)[-1], []).append(result)

    def state(self, name):
        results = self.results[name]
        if all(result.get("skipped") for result in results):
            return "skipped"
        return "changed" if any(result.get("changed") for result in results) else "ok"

    def changed(self):
        return sum(host["changed"] for host in self.stats.values())


MODULE_TASKS = {
    "ca": [
        "Create the CA directory",
        "Generate the CA key",
        "Create the CA signing request",
        "Self-sign the CA certificate",
    ],
    "certificate": [
        "Create this host's controller certificate directory",
        "Generate the private key",
        "Create the signing request",
        "Sign the certificate with the CA",
    ],
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("issued"))
    site.first = site.run("role.yml", SANS)
    return site


def test_the_first_run_issues_and_the_lookup_accepts_what_community_crypto_wrote(site):
    assert site.first.state("Sign the certificate with the CA") == "changed"
    assert site.first.state("Self-sign the CA certificate") == "changed"
    assert site.reasons(SANS) == []


def test_the_modules_agree_that_nothing_is_left_to_do(site):
    # The blocks the lookup lets the role skip, run anyway on what the first run wrote: all ok.
    run = site.run("blocks.yml", SANS)
    for name in MODULE_TASKS["ca"] + MODULE_TASKS["certificate"]:
        assert run.state(name) == "ok", name
    assert run.changed() == 0


def test_a_rerun_skips_the_module_runs_and_changes_nothing(site):
    run = site.run("role.yml", SANS)
    assert run.changed() == 0, run.stats
    for name in MODULE_TASKS["ca"] + MODULE_TASKS["certificate"]:
        assert run.state(name) == "skipped", name
    assert run.state("Install the CA certificate, certificate and key") == "ok"


@pytest.mark.parametrize(
    "sans",
    [
        [*SANS, "DNS:db1.example.net"],
        # x509_certificate compares the names in order: the same set in another order is issued again too.
        [SANS[0], "DNS:db1.example.net", SANS[1]],
    ],
    ids=["another-name", "another-order"],
)
def test_other_names_are_a_reason_and_the_certificate_is_issued_again(site, sans):
    key_before = (site.secrets_dir / "certs" / "db1" / "mysql.key").read_bytes()
    reasons = site.reasons(sans)
    assert len(reasons) == 1 and "mysql.crt: its subjectAltName is" in reasons[0], reasons
    run = site.run("role.yml", sans)
    assert run.state("Sign the certificate with the CA") == "changed"
    assert run.state("Generate the private key") == "ok"
    assert run.state("Self-sign the CA certificate") == "skipped"
    assert (site.secrets_dir / "certs" / "db1" / "mysql.key").read_bytes() == key_before
    assert site.reasons(sans) == []
