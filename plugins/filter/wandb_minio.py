# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The filters are documented one per file next to this one (minio_layout.yml, ...): a plugin file
# that defines several filters cannot carry their docs itself.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import (
    FleetInputError,
    host_list,
    host_vars_subset,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._minio_endpoint import (
    minio_endpoint as _minio_endpoint,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._minio_layout import SETTINGS
from ansible_collections.wandb_local.fleet.plugins.module_utils._minio_layout import (
    minio_layout as _minio_layout,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._minio_policy import (
    policy_statements as _policy_statements,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain


def minio_layout(nodes, hostvars, this_host, settings, scheme):
    try:
        nodes = host_list(nodes, "the MinIO nodes (wandb_minio__nodes)")
        peers = host_vars_subset(hostvars, [node for node in nodes if node != this_host], SETTINGS)
        return _minio_layout(nodes, plain(this_host), plain(settings), peers, plain(scheme))
    except FleetInputError as exc:
        raise AnsibleFilterError("wandb_local.fleet.minio_layout: %s" % exc) from None


def minio_policy_statements(policy_info):
    try:
        return _policy_statements(plain(policy_info))
    except FleetInputError as exc:
        raise AnsibleFilterError("wandb_local.fleet.minio_policy_statements: %s" % exc) from None


def minio_endpoint(inputs, first_node, secret_key, secrets_dir):
    try:
        return _minio_endpoint(plain(inputs), plain(first_node), plain(secret_key), plain(secrets_dir))
    except FleetInputError as exc:
        raise AnsibleFilterError("wandb_local.fleet.minio_endpoint: %s" % exc) from None


class FilterModule(object):
    def filters(self):
        return {
            "minio_layout": minio_layout,
            "minio_policy_statements": minio_policy_statements,
            "minio_endpoint": minio_endpoint,
        }
