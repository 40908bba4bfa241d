"""site.yml --check --diff run inside the execution environment (execution-environment.yml, built in the
lab by `tests/lab/setup ee`) against the converged all-in-one hosts, the way AWX runs a check job:
ansible-runner with process isolation starts the EE's container from a private data directory shaped
like AWX's (project/, inventory/, env/envvars, env/cmdline). The job must succeed using the collection
installed in the EE (not this checkout) and report no change on any converged host, and none of its job
events (at -vvv with --diff) nor its stdout may hold a secret of the scenario. It is this scenario's
proof that --check on converged hosts reports no change (the other scenarios run the shared
test_check_mode.py): one run for both.

The lab hosts are containers: the job reaches them with community.docker's docker_api connection
(the Docker SDK the EE has; no docker CLI) through the engine's socket, mounted into the EE. The
controller paths the lab inventory names (the secrets directory, the lab cache with MinIO and the
stand-in's archive) are mounted at the same paths; ansible-runner runs the container as this user,
who owns them."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from secret_scan import report, scan_events, scan_lines
from test_secret_scan import _scenario_secrets

ansible_runner = pytest.importorskip("ansible_runner", reason="ansible-runner comes with tests/requirements.txt")

# Tagged by tests/lab/setup ee (EE_REPOSITORY in tests/lab/versions.env).
EE_IMAGE = "wandb-fleet-lab/ee:current"
EE_COLLECTIONS = "/usr/share/ansible/collections/ansible_collections/"
DOCKER_SOCKET = "/var/run/docker.sock"


def test_site_checked_in_the_execution_environment_reports_no_change(tmp_path):
    inspected = subprocess.run(["docker", "image", "inspect", EE_IMAGE], capture_output=True, check=False)
    assert inspected.returncode == 0, f"no {EE_IMAGE}: build it with `tests/lab/setup ee`"
    repo = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
    ephemeral = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
    cache = os.environ["WANDB_LAB_CACHE"]

    private = tmp_path / "job"
    (private / "project").mkdir(parents=True)
    (private / "env").mkdir()
    shutil.copytree(repo / "playbooks", private / "project" / "playbooks")
    # The scenario's inventory as Molecule wrote it; host_vars files win over the inventory file's
    # host variables, so each lab host is reached through the Docker SDK instead of the CLI.
    inventory = private / "inventory"
    shutil.copytree(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent, inventory)
    hosts = json.loads(
        subprocess.run(
            ["ansible-inventory", "-i", str(inventory), "--list"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "ANSIBLE_LOG_PATH": "/dev/null"},
        ).stdout
    )["_meta"]["hostvars"]
    (inventory / "host_vars").mkdir(exist_ok=True)
    for host in hosts:
        (inventory / "host_vars" / f"{host}.yml").write_text(
            yaml.safe_dump({"ansible_connection": "community.docker.docker_api"})
        )
    (private / "env" / "envvars").write_text(
        yaml.safe_dump(
            {
                # What the lab's group variables look up on the controller.
                "WANDB_LAB_CACHE": cache,
                "MOLECULE_EPHEMERAL_DIRECTORY": ephemeral,
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_PIPELINING": "true",
                "ANSIBLE_INTERPRETER_PYTHON": "auto_silent",
            }
        )
    )
    # AWX's check job type, at the highest verbosity, with diffs: AWX keeps it in the job events.
    (private / "env" / "cmdline").write_text("--check --diff")

    result = ansible_runner.run(
        private_data_dir=str(private),
        playbook="playbooks/site.yml",
        ident="ee",
        verbosity=3,
        quiet=True,
        timeout=900,
        process_isolation=True,
        process_isolation_executable="docker",
        container_image=EE_IMAGE,
        container_volume_mounts=[f"{cache}:{cache}:ro", f"{ephemeral}:{ephemeral}", f"{DOCKER_SOCKET}:{DOCKER_SOCKET}"],
    )
    artifacts = private / "artifacts" / "ee"
    stdout = (artifacts / "stdout").read_text()
    assert result.status == "successful", stdout[-6000:]
    assert result.rc == 0

    events = [json.loads(p.read_text()) for p in sorted((artifacts / "job_events").glob("*.json"))]
    (stats,) = [e["event_data"] for e in events if e["event"] == "playbook_on_stats"]
    assert set(stats["ok"]) == set(hosts), stats
    changed = {host: count for host, count in stats["changed"].items() if count}
    assert not changed, (
        f"site.yml --check in the EE reports changes on the converged hosts: {changed}\n{stdout[-6000:]}"
    )

    # The roles ran from the collection installed in the EE, not from this checkout.
    role_tasks = {
        e["event_data"]["task_path"]
        for e in events
        if e["event"] == "runner_on_ok" and "/roles/" in e["event_data"].get("task_path", "")
    }
    assert role_tasks, "no role task ran"
    elsewhere = sorted(path for path in role_tasks if not path.startswith(EE_COLLECTIONS + "wandb_local/fleet/"))
    assert not elsewhere, f"role tasks not from the EE's collection: {elsewhere[:5]}"

    secrets = _scenario_secrets()
    assert secrets, "the scenario knows no secret: nothing was scanned for"
    findings = scan_events(events, secrets)
    assert not findings, report(findings)
    findings = scan_lines(stdout.splitlines(), secrets)
    assert not findings, report(findings)
