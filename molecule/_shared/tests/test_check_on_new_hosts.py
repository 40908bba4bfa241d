"""For the scenarios whose test_sequence runs `check` before `converge` (their molecule.yml adds this
file to the verifier): on new hosts, before anything is installed, `--check --diff` completes and its
changed tasks cover every task the converge then changed.

The runs are recorded by molecule/_shared/callback_plugins/wandb_lab_changes.py."""

import json
import os
from pathlib import Path


def recorded_converge_runs():
    """The scenario's runs of its converge playbook over every host and tag, oldest first."""
    folder = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "runs"
    runs = [json.loads(path.read_text()) for path in folder.glob("*.json")] if folder.is_dir() else []
    runs = [run for run in runs if run["playbook"] == "converge.yml" and not run["tags"] and not run["limit"]]
    return sorted(runs, key=lambda run: run["started"])


def predicted_and_done(runs):
    """The first --check run and the first real run, which must come after it."""
    if not runs or not runs[0]["check"]:
        raise AssertionError(
            "no --check run was recorded before the first converge: the scenario's test_sequence runs"
            " `check` before `converge` (after a hand-run `molecule converge`, destroy and run `molecule check` first)"
        )
    converge = next((run for run in runs if not run["check"]), None)
    assert converge is not None, "no converge run was recorded after the --check run"
    return runs[0], converge


def test_check_on_new_hosts_predicts_what_the_converge_changes():
    check, converge = predicted_and_done(recorded_converge_runs())
    assert check["complete"] and not check["failed"], f"--check on new hosts failed in {check['failed']}"
    predicted = {tuple(task) for task in check["changed"]}
    missed = sorted({tuple(task) for task in converge["changed"]} - predicted)
    assert not missed, "the converge changed what --check did not predict:\n" + "\n".join(
        f"  {host}: [{role}] {task}" for host, role, task in missed
    )
