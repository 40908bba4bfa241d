"""Shared by every Molecule scenario: on converged hosts, the scenario's converge playbook run
with --check must report no change (ansible-playbook --check is how operators preview a run)."""

import os
import re
import subprocess
from pathlib import Path

RECAP_LINE = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


def test_check_mode_on_converged_hosts_reports_no_change():
    scenario = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    run = subprocess.run(
        ["ansible-playbook", "--check", "--diff", "-i", inventory, str(scenario / "converge.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    output = run.stdout + run.stderr
    recap = {m["host"]: m for m in RECAP_LINE.finditer(output)}
    assert run.returncode == 0, f"--check run failed:\n{output[-6000:]}"
    assert recap, f"no PLAY RECAP in --check output:\n{output[-6000:]}"
    changed = {host: int(m["changed"]) for host, m in recap.items() if int(m["changed"])}
    assert not changed, f"--check on converged hosts reports changes {changed}:\n{output[-6000:]}"
