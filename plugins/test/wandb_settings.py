# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The test is documented in wandb_setting.yml next to this file.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings_check import (
    SettingsCheckError,
    setting_problem,
)


def wandb_setting(value, name):
    """Whether the settings module accepts `value` for the W&B variable `name`."""
    try:
        return setting_problem(name, plain(value)) is None
    except SettingsCheckError as exc:
        raise AnsibleFilterError("wandb_local.fleet.wandb_setting: %s" % exc) from None


class TestModule(object):
    def tests(self):
        return {"wandb_setting": wandb_setting}
