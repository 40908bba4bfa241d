# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The filters are documented one per file next to this one (redis_primary.yml, redis_config_state.yml):
# a plugin file that defines several filters cannot carry their docs itself.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import (
    FleetInputError,
    host_list,
    host_vars_subset,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain
from ansible_collections.wandb_local.fleet.plugins.module_utils._redis_topology import config_state, elect_primary

# What redis_primary reads of each data node and sentinel, and nothing else.
_PRIMARY_FACTS = (
    "wandb_redis__said_primary",
    "wandb_redis__live_role",
    "wandb_redis__file_replicaof",
    "wandb_redis__node_address",
    "ansible_facts",
)
_ADDRESS_FACTS = {"ansible_facts": ("all_ipv4_addresses", "all_ipv6_addresses")}


def redis_config_state(server_text, sentinel_text, marker, master_name, cli, ca_file):
    try:
        return config_state(
            plain(server_text), plain(sentinel_text), plain(marker), plain(master_name), plain(cli), plain(ca_file)
        )
    except FleetInputError as exc:
        # The messages name the input, never the files' content (they hold passwords).
        raise AnsibleFilterError("wandb_local.fleet.redis_config_state: %s" % exc) from None


def redis_primary(servers, hostvars, sentinels, quorum, port, inventory_primary=""):
    try:
        servers = host_list(servers, "the data nodes (wandb_redis_servers)")
        sentinels = host_list(sentinels, "the sentinels (wandb_redis_sentinels)")
        inventory_primary = plain(inventory_primary) or ""
        if not isinstance(inventory_primary, str):
            raise FleetInputError("inventory_primary (wandb_redis_sentinel_primary) must be a host name or empty")
        hosts = list(dict.fromkeys(servers + sentinels + ([inventory_primary] if inventory_primary else [])))
        facts = host_vars_subset(hostvars, hosts, _PRIMARY_FACTS, _ADDRESS_FACTS)
        return elect_primary(servers, sentinels, facts, plain(quorum), plain(port), inventory_primary)
    except FleetInputError as exc:
        raise AnsibleFilterError("wandb_local.fleet.redis_primary: %s" % exc) from None


class FilterModule(object):
    def filters(self):
        return {"redis_config_state": redis_config_state, "redis_primary": redis_primary}
