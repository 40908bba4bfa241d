# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Every module of the collection supports check mode, diff mode and idempotence fully; a module
    # that does not overrides the attribute in its own DOCUMENTATION and says why in `details`.
    ATTRIBUTES = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description:
      - Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: full
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
    support: full
"""

    # Membership must match action_groups.wandb in meta/runtime.yml (ansible-test checks both).
    ACTIONGROUP_WANDB = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/wandb_local.fleet.wandb) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - wandb_local.fleet.wandb
"""
