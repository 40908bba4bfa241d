# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: redact
short_description: Mask secrets in a message an operator must still read
version_added: 0.2.0
author:
  - wandb_local.fleet maintainers (@wandb-local)
description:
  - Tasks whose results can carry a secret run with C(no_log); when one fails, its message is shown again
    through this filter, so the failure is visible and the secret is not.
  - Masks the given secrets (as written and URL-encoded), the secrets of a W&B environment by the settings
    catalogue's rules, the password of every URL, C(NAME=VALUE) where NAME is a secret's name, and what follows
    C(password:), C(secret=), C(token:) and the like.
  - Works on text, and on lists and dicts of text (keys are kept).
options:
  _input:
    description: The text (or structure) to mask.
    type: raw
    required: true
  secrets:
    description: Values known to be secret.
    type: list
    elements: str
    default: []
  env:
    description: A W&B environment (variable name to value); its secrets are masked.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Run the server container
  block:
    - name: Run the server container
      community.docker.docker_container:
        name: wandb-local
        image: wandb/local:0.83.0
        env: "{{ wandb_env }}"
      no_log: true
  rescue:
    - name: Say why the container did not run (secrets masked)
      ansible.builtin.fail:
        msg: "{{ ansible_failed_result.msg | default('') | wandb_local.fleet.redact(env=wandb_env) }}"
"""

RETURN = r"""
_value:
  description: The input with every secret replaced by C(********).
  type: raw
"""

from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_redact import redact as _redact


def redact(value, secrets=None, env=None):
    return _redact(plain(value), plain(secrets or []), plain(env or {}))


class FilterModule(object):
    def filters(self):
        return {"redact": redact}
