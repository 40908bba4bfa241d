# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The filter is documented in upgrade_preflight.yml next to this file.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_versions import image_tag, preflight


def upgrade_preflight(
    target, running=None, schema=None, withdrawn=None, allow_downgrade=False, downgrade_backup="", images=None
):
    running = plain(running) or []
    if not isinstance(running, list):
        raise AnsibleFilterError("wandb_local.fleet.upgrade_preflight: running must be a list of tags")
    withdrawn = plain(withdrawn) or []
    if not isinstance(withdrawn, list):
        raise AnsibleFilterError("wandb_local.fleet.upgrade_preflight: withdrawn must be a list")
    tags = list(running) + [image_tag(image) for image in plain(images) or []]
    return preflight(
        plain(target),
        tags,
        plain(schema),
        withdrawn,
        allow_downgrade=bool(allow_downgrade),
        downgrade_backup=plain(downgrade_backup) or "",
    )


class FilterModule(object):
    def filters(self):
        return {"upgrade_preflight": upgrade_preflight}
