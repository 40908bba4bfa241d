"""Lab-only callback: records, for every playbook run of a scenario, which tasks changed on which
host and whether the run was a --check, so a verifier test can compare the --check run made
before the first converge with the converge itself (molecule/_shared/tests/test_check_mode.py).

Writes one JSON file per run under $MOLECULE_EPHEMERAL_DIRECTORY/runs/ (nothing without it)."""

import json
import os
import time

from ansible import context
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: wandb_lab_changes
type: aggregate
short_description: records the changed tasks of each playbook run (lab tests only)
description: Writes which tasks changed on which host, per run, for the Molecule verifier tests.
requirements:
  - MOLECULE_EPHEMERAL_DIRECTORY in the environment
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "wandb_lab_changes"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.record = None
        self.path = None

    def v2_playbook_on_start(self, playbook):
        ephemeral = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
        if not ephemeral:
            return
        runs = os.path.join(ephemeral, "runs")
        os.makedirs(runs, exist_ok=True)
        started = time.time()
        self.path = os.path.join(runs, "%.6f-%d.json" % (started, os.getpid()))
        self.record = {
            "playbook": os.path.basename(playbook._file_name),
            "check": bool(context.CLIARGS.get("check")),
            # Ansible's default selection is the tag "all": recorded as no tags.
            "tags": [tag for tag in context.CLIARGS.get("tags") or [] if tag != "all"],
            "limit": context.CLIARGS.get("subset"),
            "started": started,
            "changed": [],
            "failed": [],
            "complete": False,
        }

    def _task(self, result):
        task = result._task
        role = task._role.get_name(include_role_fqcn=False) if task._role else ""
        return [result._host.get_name(), role, task.get_name()]

    def v2_runner_on_ok(self, result):
        if self.record is not None and result._result.get("changed"):
            entry = self._task(result)
            if entry not in self.record["changed"]:
                self.record["changed"].append(entry)

    def v2_runner_item_on_ok(self, result):
        self.v2_runner_on_ok(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if self.record is not None and not ignore_errors:
            self.record["failed"].append(self._task(result))

    def v2_playbook_on_stats(self, stats):
        if self.record is None:
            return
        self.record["complete"] = True
        # The destroy playbook removes the folder while it runs.
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path, "w", encoding="utf-8") as handle:
            json.dump(self.record, handle, indent=1)
