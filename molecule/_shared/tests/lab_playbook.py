"""Run a scenario's playbooks again from its verifier tests, the way an operator would.

Scenario tests import it as `from lab_playbook import run_playbook`: pyproject.toml puts this
directory on pytest's pythonpath."""

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import testinfra

RECAP_LINE = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


@dataclass
class PlaybookRun:
    returncode: int
    output: str
    changed: dict  # host -> number of changed tasks
    failed: dict  # host -> number of failed tasks

    def tail(self, chars=6000):
        return self.output[-chars:]


def run_playbook(playbook="converge.yml", *args, extra_vars=None):
    """Run a playbook of the current scenario against its inventory; return what it did."""
    scenario = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
    command = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(scenario / playbook), *args]
    if extra_vars:
        command += ["--extra-vars", json.dumps(extra_vars)]
    # Plain output, whatever the caller's terminal settings: the recap is parsed below, and results
    # as one-line JSON keep messages searchable (YAML wraps long ones and doubles their quotes).
    env = {
        **os.environ,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "false",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        # Tests that pass secrets on purpose check their own output; the scenario's log is the
        # provisioner's alone.
        "ANSIBLE_LOG_PATH": "/dev/null",
    }
    run = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    output = run.stdout + run.stderr
    recap = list(RECAP_LINE.finditer(output))
    return PlaybookRun(
        returncode=run.returncode,
        output=output,
        changed={m["host"]: int(m["changed"]) for m in recap},
        failed={m["host"]: int(m["failed"]) for m in recap},
    )


def lab_host(name):
    """A testinfra host of this scenario by inventory name, for tests that look at several hosts."""
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}")


def standin_release(tag):
    """Extra vars that deploy stand-in <tag> through the air-gapped archive path (tests/lab/setup standin)."""
    archive = Path(os.environ["WANDB_LAB_CACHE"]).expanduser() / "images" / f"wandb-standin-{tag}.tar"
    assert archive.is_file(), f"{archive} is missing: run tests/lab/setup standin"
    checksum = (archive.parent / f"{archive.name}.sha256").read_text().strip()
    return {
        "wandb_server_image_tag": tag,
        "wandb_server_image_archive": str(archive),
        "wandb_server_image_archive_checksum": f"sha256:{checksum}",
    }
