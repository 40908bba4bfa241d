# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: wandb_settings_problems
short_description: What the settings module would refuse in a dict of W&B variables, worded for role variables
version_added: 0.2.0
author:
  - wandb_local.fleet maintainers (@wandb-local)
description:
  - Asks the catalogue, validators and rules between variables of M(wandb_local.fleet.settings) (the same code, not a
    copy) about every variable of the input, before anything is written, and returns the problems by variable.
    An empty dict means the module accepts the settings.
  - Each message starts with the role variable to fix (O(source)C(.KEY), or the O(labels) entry) and says the rule;
    a secret's value (by the catalogue's rules, secret variables and URL passwords) never appears in one.
  - Names the catalogue does not know pass, as in the module (C(GORILLA_*), C(LDAP_*), ...); a name that is not upper
    case is a problem. Rules the module only warns about are not problems.
  - For a single value, the P(wandb_local.fleet.wandb_setting#test) test.
options:
  _input:
    description: W&B variable name to value, as a role passes them to the module (V(null) removes a variable).
    type: dict
    required: true
  source:
    description: The role variable holding the input, for the messages (C(wandb_server_settings)).
    type: str
    default: ''
  labels:
    description: W&B variable to the role variable that sets it, for keys set by a variable of their own.
    type: dict
    default: {}
  environment:
    description:
      - The whole environment the input ends up in (the input merged with what the role sets itself), for the rules
        between variables; defaults to the input.
      - Rules are reported when they involve a variable of the input, as the module reports the rules involving the
        variables it is given. The environment's other values are not checked one by one.
    type: dict
"""

EXAMPLES = r"""
- name: Validate wandb_server_settings
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems.values() | flatten | join('; ') }}"
  vars:
    __problems: >-
      {{ wandb_server_settings
         | wandb_local.fleet.wandb_settings_problems('wandb_server_settings', environment=wandb_server_environment) }}
"""

RETURN = r"""
_value:
  description:
    - W&B variable to its problems, one message each, for example C(OIDC_ISSUER) to
      C(["wandb_server_settings.OIDC_ISSUER - must be an https URL"]) (the message's words are the module's).
    - Empty when the module accepts the settings.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings_check import (
    SettingsCheckError,
    settings_problems,
)


def wandb_settings_problems(settings, source="", labels=None, environment=None):
    try:
        return settings_problems(
            plain(settings),
            source=plain(source) or "",
            labels=plain(labels or {}),
            environment=None if environment is None else plain(environment),
        )
    except SettingsCheckError as exc:
        raise AnsibleFilterError("wandb_local.fleet.wandb_settings_problems: %s" % exc) from None


class FilterModule(object):
    def filters(self):
        return {"wandb_settings_problems": wandb_settings_problems}
