# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() in-process and capture what it would print, after Ansible's own output
filtering (no_log masking), which is what the controller and the logs see."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest
from ansible.module_utils import _internal as ansible_module_utils_internal
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args


class ModuleResult(dict):
    @property
    def failed(self):
        return bool(self.get("failed"))

    @property
    def raw(self):
        return json.dumps(self, sort_keys=True)

    @property
    def warnings(self):
        found = []
        for warning in self.get("warnings", []):
            found.append(warning["event"]["msg"] if isinstance(warning, dict) else warning)
        return found


def run_module(main, args, check_mode=False, diff=False):
    module_args = dict(args)
    module_args["_ansible_check_mode"] = check_mode
    module_args["_ansible_diff"] = diff
    stdout = io.StringIO()
    # Ansible keeps warnings in module-global state: one process normally runs one module.
    ansible_warnings._global_warnings.clear()
    ansible_warnings._global_deprecations.clear()
    # Once anything controller-side is imported (filter tests), module warnings would go to the
    # controller's display instead of the result; a module run is never on the controller.
    was_controller = ansible_module_utils_internal.is_controller
    ansible_module_utils_internal.is_controller = False
    try:
        with patch_module_args(module_args), redirect_stdout(stdout), pytest.raises(SystemExit) as exited:
            main()
    finally:
        ansible_module_utils_internal.is_controller = was_controller
    output = stdout.getvalue().strip().splitlines()
    assert output, "the module printed no result"
    result = ModuleResult(json.loads(output[-1]))
    result["rc"] = exited.value.code
    assert (exited.value.code != 0) == result.failed, result
    return result
