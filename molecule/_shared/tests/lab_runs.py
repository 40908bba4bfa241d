"""The playbook runs of the current scenario, as molecule/_shared/callback_plugins/wandb_lab_changes.py
recorded them (one JSON file per run under $MOLECULE_EPHEMERAL_DIRECTORY/runs)."""

import json
import os
from pathlib import Path


def recorded_runs():
    """The scenario's runs of its converge playbook over every host, oldest first."""
    folder = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "runs"
    runs = [json.loads(path.read_text()) for path in folder.glob("*.json")] if folder.is_dir() else []
    runs = [run for run in runs if run["playbook"] == "converge.yml" and not run["limit"]]
    return sorted(runs, key=lambda run: run["started"])
